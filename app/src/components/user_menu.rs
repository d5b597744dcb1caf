//! Who is signed in, their role, and signing out.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The signed-in person as the header shows them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub name: String,
    pub role: String,
    pub admin: bool,
    /// Approval requests waiting for this person's decision.
    pub waiting: u32,
}

/// Who is signed in, if anyone. Open to anyone: the 404 page has a header too.
#[server(output = crate::codec::JsonText)]
pub async fn current_user() -> Result<Option<SignedInUser>, AppError> {
    use portico_core::identity::Role;
    let Some(p) = crate::context::principal() else {
        return Ok(None);
    };
    let waiting = match crate::context::portal()?
        .approvals()
        .waiting_count(&p)
        .await
    {
        Ok(waiting) => u32::try_from(waiting).unwrap_or(u32::MAX),
        Err(e) => return Err(AppError::internal("the approvals waiting", &e)),
    };
    Ok(Some(SignedInUser {
        admin: p.has(Role::Admin),
        name: p.name,
        role: p.role.to_string(),
        waiting,
    }))
}

/// The user menu: name, role and "Sign out" (a form, so it works before hydration).
#[component]
pub fn UserMenu() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    // The count of approvals waiting follows the `approvals` topic, once signed in
    // (a memo: reading the count again does not join the topic again).
    let signed_in = Memo::new(move |_| matches!(user.get(), Some(Ok(Some(_)))));
    crate::live::use_live_refresh(
        move || signed_in.get().then(|| "approvals".to_owned()),
        move || user.refetch(),
    );
    view! {
        <div class="user-menu">
            <Transition fallback=|| ()>
                {move || {
                    user.get()
                        .map(|found| match found {
                            Ok(Some(user)) => {
                                let waiting = user.waiting;
                                view! {
                                    {(waiting > 0).then(|| view! {
                                        <a
                                            class="waiting-badge"
                                            href="/approvals"
                                            data-testid="waiting-badge"
                                            title="Approval requests waiting for you"
                                        >
                                            {waiting}
                                            <span class="visually-hidden">" approval requests wait for you"</span>
                                        </a>
                                    })}
                                    {user.admin.then(|| view! {
                                        <nav class="admin-links" aria-label="Administration">
                                            <a href="/admin/tokens">"Tokens"</a>
                                            <a href="/admin/audit">"Audit log"</a>
                                        </nav>
                                    })}
                                    <span class="user-name" data-testid="user-name">
                                        {user.name}
                                    </span>
                                    <span class="role-badge" data-testid="user-role">
                                        {user.role}
                                    </span>
                                    <form method="post" action="/auth/logout">
                                        <button type="submit" class="button">
                                            "Sign out"
                                        </button>
                                    </form>
                                }
                                    .into_any()
                            }
                            _ => view! { <a href="/login" class="button">"Sign in"</a> }.into_any(),
                        })
                }}
            </Transition>
        </div>
    }
}
