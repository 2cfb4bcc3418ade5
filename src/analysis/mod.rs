//! Pure analysis over domain data: no I/O, deterministic, explainable.

pub mod canary;
pub mod ci_log;
pub mod counts;
pub mod drafter;
pub mod rollout;

pub mod suspect;
pub mod test_pr;
