pub mod audit;
pub mod exec;
