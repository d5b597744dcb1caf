//! One HTTP(S) health check: a GET that must answer 2xx or 3xx within the timeout.

use std::time::{Duration, Instant};

use super::super::HealthStatus;

/// What one check saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    /// Healthy, degraded (answered, slowly) or down.
    pub outcome: HealthStatus,
    /// How long the answer took; none when there was no answer.
    pub latency_ms: Option<i64>,
    /// Why it is not healthy, for people.
    pub message: Option<String>,
}

/// The HTTP client probes share: connections are kept between checks of one host, and
/// redirects are not followed (a redirect to a login page is not a healthy service).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("portico-health-probe/", env!("CARGO_PKG_VERSION")))
        .pool_idle_timeout(Duration::from_secs(90))
        .build()
        .unwrap_or_default()
}

/// GETs `url`: a 2xx or 3xx answer within `timeout` is up (degraded when slower than
/// `slow`); anything else is down, with the reason.
pub async fn check(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
    slow: Duration,
) -> Observation {
    let started = Instant::now();
    let result = tokio::time::timeout(timeout, async {
        let response = client.get(url).send().await?;
        let status = response.status();
        // Read (and discard) the body, so the connection can be used again.
        response.bytes().await.map(|_| status)
    })
    .await;
    let elapsed = started.elapsed();
    let latency_ms = Some(elapsed.as_millis().min(i64::MAX as u128) as i64);
    match result {
        Err(_) => Observation {
            outcome: HealthStatus::Down,
            latency_ms: None,
            message: Some(format!(
                "no answer within {}",
                super::format_duration(timeout)
            )),
        },
        Ok(Err(e)) => Observation {
            outcome: HealthStatus::Down,
            latency_ms: None,
            message: Some(describe(&e)),
        },
        Ok(Ok(status)) if status.is_success() || status.is_redirection() => {
            if elapsed > slow {
                Observation {
                    outcome: HealthStatus::Degraded,
                    latency_ms,
                    message: Some(format!(
                        "slow: answered in {} ms (over {})",
                        elapsed.as_millis(),
                        super::format_duration(slow)
                    )),
                }
            } else {
                Observation {
                    outcome: HealthStatus::Healthy,
                    latency_ms,
                    message: None,
                }
            }
        }
        Ok(Ok(status)) => Observation {
            outcome: HealthStatus::Down,
            latency_ms,
            message: Some(format!("answered HTTP {status}")),
        },
    }
}

/// A transport error in a few words: `connection refused`, not reqwest's chain.
fn describe(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    let detail = cause.to_string();
    if error.is_connect() {
        format!("cannot connect: {detail}")
    } else {
        format!("request failed: {detail}")
    }
}
