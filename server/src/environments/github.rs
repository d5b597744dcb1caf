//! `POST /api/v1/webhooks/github`: GitHub's `deployment_status` webhook, as deployment
//! reports.
//!
//! GitHub signs each delivery with the webhook's secret (`X-Hub-Signature-256:
//! sha256=<hex HMAC of the body>`); deliveries that do not carry a matching signature
//! are refused with 401 and change nothing. The component is the one the deployment's
//! payload names (`{"entity": "payments"}`), or else the one whose
//! `github.com/project-slug` annotation is the repository.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use hmac::{Hmac, Mac};
use portico_core::environments::deployments::DeploymentReport;
use serde_json::{json, Value};
use sha2::Sha256;

use super::routes::{parse_body, parse_time, report_response};
use crate::access::{Need, Routes};
use crate::error::ApiError;
use crate::state::AppState;

/// Who the audit and the deployments name as the reporter.
const REPORTER: &str = "webhook:github";
/// The annotation Backstage uses to tie a component to its GitHub repository.
const PROJECT_SLUG: &str = "github.com/project-slug";

/// The signature is the credential, so the route itself is public.
pub fn routes() -> Routes {
    Routes::new().post("/api/v1/webhooks/github", Need::Public, github_webhook)
}

/// Whether `signature` (`sha256=<hex>`) is the HMAC-SHA256 of `body` with `secret`,
/// compared in constant time.
pub fn signature_matches(secret: &[u8], body: &[u8], signature: &str) -> bool {
    let Some(hex) = signature.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

async fn github_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Some(secret) = state.github_webhook_secret.as_deref() else {
        return Err(ApiError::NotFound(
            "the GitHub webhook is not configured (set PORTICO_GITHUB_WEBHOOK_SECRET)".into(),
        ));
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(signature) = header("x-hub-signature-256") else {
        return Err(ApiError::Unauthenticated(
            "X-Hub-Signature-256 is missing: set the webhook's secret in GitHub".into(),
        ));
    };
    if !signature_matches(secret.as_bytes(), &body, signature) {
        return Err(ApiError::Unauthenticated(
            "X-Hub-Signature-256 does not match the body: the secrets differ".into(),
        ));
    }
    let event = header("x-github-event").unwrap_or_default();
    match event {
        "ping" => Ok((StatusCode::OK, Json(json!({ "ok": true, "event": "ping" })))),
        "deployment_status" => {
            let payload: Value = parse_body(&body, "a GitHub webhook payload")?;
            deployment_status(&state, &payload).await
        }
        other => Ok((
            StatusCode::ACCEPTED,
            Json(
                json!({ "ignored": format!("{other:?} events are not used; send deployment_status") }),
            ),
        )),
    }
}

/// GitHub's states as Portico's; `None` for `inactive` (GitHub's mark on a deployment
/// superseded by a newer one, which is not news).
fn status_of(state: &str) -> Result<Option<&'static str>, ApiError> {
    Ok(match state {
        "pending" | "queued" | "in_progress" => Some("started"),
        "success" => Some("succeeded"),
        "failure" | "error" => Some("failed"),
        "inactive" => None,
        other => {
            return Err(ApiError::Input(format!(
                "deployment_status.state: {other:?} is not a GitHub deployment state"
            )))
        }
    })
}

async fn deployment_status(
    state: &AppState,
    payload: &Value,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let text = |value: &Value, field: &str| -> Result<String, ApiError> {
        value
            .as_str()
            .map(str::to_owned)
            .or_else(|| value.as_i64().map(|n| n.to_string()))
            .ok_or_else(|| ApiError::Input(format!("{field} is missing")))
    };
    let status = &payload["deployment_status"];
    let deployment = &payload["deployment"];
    let Some(our_status) = status_of(&text(&status["state"], "deployment_status.state")?)? else {
        return Ok((
            StatusCode::ACCEPTED,
            Json(json!({ "ignored": "inactive deployments are superseded ones" })),
        ));
    };
    let repository = text(&payload["repository"]["full_name"], "repository.full_name")?;
    let entity = match deployment["payload"]["entity"].as_str() {
        Some(entity) => entity.to_owned(),
        None => {
            let found = state
                .portal
                .environments()
                .entities_with_annotation(PROJECT_SLUG, &repository)
                .await?;
            match found.as_slice() {
                [one] => one.clone(),
                [] => {
                    return Err(ApiError::Input(format!(
                        "no catalog entity has the annotation {PROJECT_SLUG}: {repository}, and the deployment's payload names none ({{\"entity\": \"…\"}})"
                    )))
                }
                several => {
                    return Err(ApiError::Input(format!(
                        "several entities have the annotation {PROJECT_SLUG}: {repository} ({}); name one in the deployment's payload ({{\"entity\": \"…\"}})",
                        several.join(", ")
                    )))
                }
            }
        }
    };
    let sha = deployment["sha"].as_str().map(str::to_owned);
    let version = deployment["ref"]
        .as_str()
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .or_else(|| sha.as_ref().map(|s| s.chars().take(12).collect()))
        .ok_or_else(|| ApiError::Input("deployment.ref and deployment.sha are missing".into()))?;
    let finished = our_status != "started";
    let report = DeploymentReport {
        id: format!(
            "github:{repository}:{}",
            text(&deployment["id"], "deployment.id")?
        ),
        entity,
        environment: text(&deployment["environment"], "deployment.environment")?,
        version,
        status: our_status.to_owned(),
        commit: sha,
        url: status["log_url"]
            .as_str()
            .or(status["target_url"].as_str())
            .or(status["environment_url"].as_str())
            .filter(|u| !u.is_empty())
            .map(str::to_owned),
        started_at: parse_time("deployment.created_at", deployment["created_at"].as_str())?,
        finished_at: if finished {
            parse_time(
                "deployment_status.created_at",
                status["created_at"].as_str(),
            )?
        } else {
            None
        },
        actor: status["creator"]["login"]
            .as_str()
            .or(deployment["creator"]["login"].as_str())
            .map(str::to_owned),
    };
    let (deployment, outcome) = state
        .portal
        .environments()
        .report(REPORTER, &report)
        .await?;
    Ok(report_response(&deployment, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_the_hmac_of_the_body() {
        // GitHub's documented example: secret "It's a Secret to Everybody", body
        // "Hello, World!".
        let signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(signature_matches(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            signature
        ));
        assert!(!signature_matches(
            b"another secret",
            b"Hello, World!",
            signature
        ));
        assert!(!signature_matches(
            b"It's a Secret to Everybody",
            b"Hello, World?",
            signature
        ));
        for malformed in ["", "sha1=abc", "sha256=zz", "sha256=abc"] {
            assert!(!signature_matches(b"s", b"b", malformed), "{malformed}");
        }
    }

    #[test]
    fn github_states_map_to_deployment_statuses() {
        assert_eq!(status_of("in_progress").unwrap(), Some("started"));
        assert_eq!(status_of("success").unwrap(), Some("succeeded"));
        assert_eq!(status_of("error").unwrap(), Some("failed"));
        assert_eq!(status_of("inactive").unwrap(), None);
        assert!(status_of("exploded").is_err());
    }
}
