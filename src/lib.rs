//! flightdeck: a terminal release cockpit.
//!
//! `app` (state + update), `ui` (render), `domain` and `analysis` are pure; `sources` talks to the
//! services; `sim` is the demo world; `runtime` and `terminal` run the interactive face.

#![forbid(unsafe_code)]
#![recursion_limit = "256"]

pub mod ai;
pub mod analysis;
pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod fmt;
pub mod headless;
pub mod ops;
pub mod redact;
pub mod runtime;
pub mod sanitize;
pub mod sim;
pub mod sources;
pub mod store;
pub mod terminal;
pub mod ui;
