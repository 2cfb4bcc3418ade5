pub mod audit;
pub mod draft;
pub mod exec;
