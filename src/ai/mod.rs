pub mod risk;
