//! Why a request to a service failed, as data: the sources produce it, `update` reads it (an auth
//! failure, a rate limit and a transport error call for different words and different waits).

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Why a poll failed, in words an operator can act on. Never contains a token.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum SourceError {
    #[error("cannot connect to {host}: {detail}")]
    Connect { host: String, detail: String },
    #[error("no answer from {host} within {secs:.1} s")]
    Timeout {
        host: String,
        #[serde(with = "super::nonfinite")]
        secs: f64,
    },
    /// The connection closed before the whole answer arrived.
    #[error("the answer from {host} was cut off before its end")]
    Cut { host: String },
    #[error("HTTP {status}: {message}")]
    Status { status: u16, message: String },
    #[error("token rejected (HTTP {status}): {hint}")]
    Auth { status: u16, hint: String },
    #[error("rate limited; next try in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// GitHub's secondary limits (too many requests at once or a minute, too much CPU): not
    /// the hour's budget, and over sooner.
    #[error("secondary rate limit; next try in {retry_after_secs} s")]
    SecondaryLimit { retry_after_secs: u64 },
    #[error("unexpected response: {0}")]
    Decode(String),
    #[error("query rejected ({error_type}): {error}")]
    Query { error_type: String, error: String },
    #[error("{0}")]
    Config(String),
}

impl SourceError {
    /// The source itself could not be reached (as opposed to one request being refused).
    pub fn is_transport(&self) -> bool {
        matches!(
            self,
            SourceError::Connect { .. }
                | SourceError::Timeout { .. }
                | SourceError::Cut { .. }
                | SourceError::Auth { .. }
        )
    }

    /// Whether the rest of a poll should stop: the source is unreachable, refuses the token, or
    /// asks to wait (more requests would only be refused, or get the caller banned).
    pub fn stops_the_poll(&self) -> bool {
        self.is_transport()
            || matches!(
                self,
                SourceError::RateLimited { .. } | SourceError::SecondaryLimit { .. }
            )
    }

    /// How long the poller should wait before trying again, when the server said so.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SourceError::RateLimited { retry_after_secs }
            | SourceError::SecondaryLimit { retry_after_secs } => {
                Some(Duration::from_secs(*retry_after_secs))
            }
            _ => None,
        }
    }
}
