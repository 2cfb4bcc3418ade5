pub mod dora;
pub mod prompt;
pub mod risk;
pub mod subjects;
pub mod suggest;
pub mod summaries;
pub mod triage;
