pub mod risk;
pub mod suggest;
