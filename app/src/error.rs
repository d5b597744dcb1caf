use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What a server function tells the browser when it fails.
///
/// Safe to show: internal causes stay in the server log, and the browser gets a
/// reference to quote when reporting the problem.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The call itself failed (network, encoding, missing server function).
    #[error("{0}")]
    Call(ServerFnErrorErr),
    /// The request was refused for a reason the person can act on (a name taken, a
    /// field out of range, a role too low); the message says which.
    #[error("{0}")]
    Refused(String),
    /// The server failed; details are in its log under `reference`.
    #[error("Something went wrong on the server (reference {reference}).")]
    Internal { reference: String },
}

impl FromServerFnError for AppError {
    type Encoder = crate::codec::JsonTextEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Call(value)
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// Logs `cause` under a fresh reference and returns the error the browser may see.
    pub fn internal(context: &str, cause: &(dyn std::error::Error + 'static)) -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        let reference = format!(
            "{:x}-{:x}",
            nanos & 0xffff_ffff,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        tracing::error!(%reference, error = cause, "{context}");
        Self::Internal { reference }
    }
}
