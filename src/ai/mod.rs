pub mod dora;
pub mod risk;
pub mod suggest;
pub mod triage;
