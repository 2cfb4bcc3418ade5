pub mod dora;
pub mod risk;
pub mod suggest;
