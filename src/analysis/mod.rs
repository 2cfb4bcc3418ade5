//! Pure analysis over domain data: no I/O, deterministic, explainable.

pub mod ci_log;
pub mod summaries;
