//! Clients of the real services and the pollers that feed the cockpit. Knows nothing of the UI.

pub mod budget;
pub mod dora;
pub mod github;
pub mod http;
pub mod llm;
pub mod poller;
pub mod prometheus;
pub mod promql;
pub mod sentry;

pub use http::SourceError;
