//! Who may decide a request: its listed approvers (a role listed lets everyone with it
//! decide), never the one who asked for it. An API token is a principal of its own:
//! the token that asked may not decide, another token or person listed may.

use super::model::{Approval, Approver};
use crate::identity::{Principal, PrincipalKind};

/// Why `principal` may not decide `approval`, if they may not.
pub fn refusal(approval: &Approval, principal: &Principal) -> Option<String> {
    let actor = principal.actor();
    if actor == approval.requested_by {
        return Some(format!(
            "{actor} asked for this approval: someone else must decide it (four eyes)"
        ));
    }
    if !approval
        .approvers
        .iter()
        .any(|written| is_approver(principal, written))
    {
        return Some(format!(
            "{actor} is not among the approvers of this request ({})",
            approval.approvers.join(", ")
        ));
    }
    None
}

/// Whether `principal` is the approver written as `written`.
fn is_approver(principal: &Principal, written: &str) -> bool {
    match Approver::parse(written) {
        Ok(Approver::Role(role)) => principal.has(role),
        Ok(Approver::Token(name)) => {
            principal.kind == PrincipalKind::Token && principal.name == name
        }
        Ok(Approver::Entity(key)) => {
            principal.kind == PrincipalKind::User
                && (principal.owns(&key)
                    || principal
                        .entity
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(&key)))
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approvals::model::ApprovalStatus;
    use crate::identity::Role;
    use serde_json::json;

    fn approval(requested_by: &str, approvers: &[&str]) -> Approval {
        Approval {
            id: "a".into(),
            title: "t".into(),
            description: String::new(),
            requested_by: requested_by.into(),
            subject: json!({"kind": "external"}),
            context: json!({}),
            approvers: approvers.iter().map(|a| (*a).to_owned()).collect(),
            min_approvals: 1,
            status: ApprovalStatus::Pending,
            callback_url: None,
            version: 0,
            created_at: 0,
            expires_at: 1,
            decided_at: None,
            decisions: Vec::new(),
        }
    }

    fn principal(kind: PrincipalKind, name: &str, role: Role, owners: &[&str]) -> Principal {
        Principal {
            kind,
            id: name.into(),
            name: name.into(),
            email: None,
            role,
            groups: Vec::new(),
            owners: owners.iter().map(|o| (*o).to_owned()).collect(),
            entity: (kind == PrincipalKind::User).then(|| format!("user:default/{name}")),
        }
    }

    #[test]
    fn approvers_are_matched_by_role_group_user_and_token() {
        let request = approval(
            "token:pipeline",
            &[
                "role:sre",
                "group:default/dba",
                "user:default/ada",
                "token:bot",
            ],
        );
        let allowed = [
            principal(PrincipalKind::User, "sam", Role::Sre, &[]),
            principal(PrincipalKind::User, "root", Role::Admin, &[]),
            principal(
                PrincipalKind::User,
                "dan",
                Role::Developer,
                &["group:default/dba"],
            ),
            principal(PrincipalKind::User, "ada", Role::Viewer, &[]),
            principal(PrincipalKind::Token, "bot", Role::Viewer, &[]),
        ];
        for p in &allowed {
            assert_eq!(refusal(&request, p), None, "{}", p.actor());
        }
        let refused = [
            principal(
                PrincipalKind::User,
                "dev",
                Role::Developer,
                &["group:default/web"],
            ),
            // A token named like a user is not that user, nor the other way round.
            principal(PrincipalKind::Token, "ada", Role::Viewer, &[]),
            principal(PrincipalKind::User, "bot", Role::Viewer, &[]),
            // The requester, whatever its role.
            principal(PrincipalKind::Token, "pipeline", Role::Admin, &[]),
        ];
        for p in &refused {
            assert!(refusal(&request, p).is_some(), "{}", p.actor());
        }
        assert!(refusal(&request, &refused[3])
            .unwrap()
            .contains("four eyes"));
    }
}
