#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

// The only generated file of the workspace: written by `cargo xtask codegen`, never by hand.
// Lint allowances live here, on the generated module alone.
#[allow(
    clippy::all,
    clippy::pedantic,
    missing_docs,
    unused_imports,
    unused_mut,
    irrefutable_let_patterns,
    rustdoc::all
)]
mod generated;

// Hand-written modules the generated code refers to (as `crate::Timestamp`, `crate::lenient`);
// `cargo xtask codegen --out` and `cargo xtask sweep` copy them into their trial crates.
pub mod lenient;
pub mod timestamp;

// Hand-written methods of generated types.
mod status;

pub use generated::*;
pub use timestamp::Timestamp;
