//! Callbacks: a pipeline that gave a `callback_url` is called once its request is
//! decided, expires or is cancelled, instead of polling; the approvers' webhooks
//! ([`super::webhooks`]) go the same way.
//!
//! The call is written in the transaction that settles the request, so it is never lost
//! (a restart, a database blip); a worker delivers it. Each call is signed: the header
//! `X-Portico-Signature-256: sha256=<hex HMAC-SHA256 of the body>` with the configured
//! secret, as GitHub signs its webhooks. A receiver that does not answer 2xx is called
//! again with backoff; the decision never waits for it. Any instance may deliver: a
//! call is claimed by compare-and-set before it is sent.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use sqlx::{AnyConnection, Row};

use super::model::Approval;
use super::{ApprovalError, Approvals};
use crate::storage::sql::now_millis;

/// How long a claimed call is left to its instance before another may try it.
const LEASE: i64 = 60_000;
/// How long a receiver may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Calls looked at per round.
const BATCH: i64 = 20;
/// How often the worker looks for calls due when nothing wakes it.
const POLL: Duration = Duration::from_secs(2);

/// The waits between attempts (the first call goes at once): 10 s, 30 s, 1 min, 5 min,
/// 15 min, 1 h, 3 h; after the last, the call is given up and the log says so.
pub const BACKOFF: [Duration; 7] = [
    Duration::from_secs(10),
    Duration::from_secs(30),
    Duration::from_secs(60),
    Duration::from_secs(300),
    Duration::from_secs(900),
    Duration::from_secs(3600),
    Duration::from_secs(3 * 3600),
];

/// The signature header's value for `body`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Writes the call for a request just settled (in its transaction), if it has a
/// callback URL.
pub(super) async fn enqueue(
    conn: &mut AnyConnection,
    approval: &Approval,
    event: &str,
) -> Result<(), sqlx::Error> {
    let Some(url) = &approval.callback_url else {
        return Ok(());
    };
    let body = json!({ "event": event, "approval": approval.to_json() }).to_string();
    enqueue_call(conn, &approval.id, url, event, &body).await
}

/// Writes a call of `url` with `body` about the request `approval_id` (in the
/// transaction of the change it announces).
pub(super) async fn enqueue_call(
    conn: &mut AnyConnection,
    approval_id: &str,
    url: &str,
    event: &str,
    body: &str,
) -> Result<(), sqlx::Error> {
    let now = now_millis();
    sqlx::query(
        "INSERT INTO approval_callbacks (id, approval_id, url, event, body, attempts, next_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, 0, $6, $6)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(approval_id)
    .bind(url)
    .bind(event)
    .bind(body)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Returns when a request is asked for or settled somewhere (the other events of the
/// log do not wake the worker), or when events were missed; never once the bus is gone (the
/// worker's poll goes on).
async fn announced(
    changes: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<crate::events::Event>>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match changes.recv().await {
            Ok(event)
                if event.topic == super::TOPIC
                    && matches!(
                        event.event_type.as_str(),
                        "approval.requested"
                            | "approval.decided"
                            | "approval.expired"
                            | "approval.cancelled"
                    ) =>
            {
                return
            }
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => return,
            Err(RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}

/// A call as stored.
struct Call {
    id: String,
    approval_id: String,
    url: String,
    event: String,
    body: String,
    attempts: i64,
    next_at: i64,
}

impl Approvals {
    /// Delivers callbacks as they fall due, until the process stops. Woken at once by
    /// a settled request (through the event log), else every two seconds.
    pub async fn deliver_callbacks(&self) -> Result<(), ApprovalError> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Portico/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApprovalError::invalid("callback_url", format!("no HTTP client: {e}")))?;
        let mut changes = self.events.subscribe();
        loop {
            while self.deliver_due(&client).await? == BATCH as usize {}
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                () = announced(&mut changes) => {}
            }
        }
    }

    /// Tries each call that is due (at most a batch); how many were looked at.
    pub async fn deliver_due(&self, client: &reqwest::Client) -> Result<usize, ApprovalError> {
        let now = now_millis();
        let rows = sqlx::query(
            "SELECT id, approval_id, url, event, body, attempts, next_at FROM approval_callbacks \
             WHERE next_at IS NOT NULL AND next_at <= $1 ORDER BY next_at LIMIT $2",
        )
        .bind(now)
        .bind(BATCH)
        .fetch_all(self.db.pool())
        .await?;
        let calls: Vec<Call> = rows
            .iter()
            .map(|row| {
                Ok(Call {
                    id: row.try_get("id")?,
                    approval_id: row.try_get("approval_id")?,
                    url: row.try_get("url")?,
                    event: row.try_get("event")?,
                    body: row.try_get("body")?,
                    attempts: row.try_get("attempts")?,
                    next_at: row.try_get("next_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        let looked = calls.len();
        for call in calls {
            // Claimed by whoever moves it first; another instance skips it.
            let claimed = sqlx::query(
                "UPDATE approval_callbacks SET next_at = $1, attempts = attempts + 1 \
                 WHERE id = $2 AND next_at = $3",
            )
            .bind(now_millis() + LEASE)
            .bind(&call.id)
            .bind(call.next_at)
            .execute(self.db.pool())
            .await?;
            if claimed.rows_affected() == 1 {
                self.deliver(client, &call).await?;
            }
        }
        Ok(looked)
    }

    async fn deliver(&self, client: &reqwest::Client, call: &Call) -> Result<(), ApprovalError> {
        let attempt = call.attempts + 1;
        let failure = match &self.settings.signing_secret {
            // Requests with a callback are only taken with a secret; it went since.
            None => Some("no signing secret is configured any more".to_owned()),
            Some(secret) => {
                let request = client
                    .post(&call.url)
                    .header("Content-Type", "application/json")
                    .header("X-Portico-Event", &call.event)
                    .header("X-Portico-Delivery", &call.id)
                    .header(
                        "X-Portico-Signature-256",
                        signature(secret.as_bytes(), call.body.as_bytes()),
                    )
                    .body(call.body.clone());
                match request.send().await {
                    Ok(response) if response.status().is_success() => None,
                    Ok(response) => Some(format!("the receiver answered {}", response.status())),
                    Err(e) => Some(format!("the receiver could not be reached: {e}")),
                }
            }
        };
        let now = now_millis();
        let Some(failure) = failure else {
            sqlx::query(
                "UPDATE approval_callbacks SET delivered_at = $1, next_at = NULL, last_error = NULL \
                 WHERE id = $2",
            )
            .bind(now)
            .bind(&call.id)
            .execute(self.db.pool())
            .await?;
            tracing::info!(approval = %call.approval_id, url = %call.url, attempt, "approval callback delivered");
            return Ok(());
        };
        let backoff = &self.settings.callback_backoff;
        let next = usize::try_from(call.attempts)
            .ok()
            .and_then(|i| backoff.get(i))
            .filter(|_| self.settings.signing_secret.is_some())
            .map(|wait| now + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2));
        match next {
            Some(_) => {
                tracing::warn!(approval = %call.approval_id, url = %call.url, attempt, error = %failure, "approval callback failed; it will be tried again")
            }
            None => {
                tracing::error!(approval = %call.approval_id, url = %call.url, attempt, error = %failure, "approval callback given up")
            }
        }
        let error = match next {
            Some(_) => failure,
            None => format!("given up after {attempt} attempts: {failure}"),
        };
        sqlx::query("UPDATE approval_callbacks SET next_at = $1, last_error = $2 WHERE id = $3")
            .bind(next)
            .bind(error)
            .bind(&call.id)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_github_style_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
