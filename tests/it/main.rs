//! The integration tests, in one binary so that the crate is linked once (release profile, thin LTO):
//! each module tests one command or concern against the real binary, and `util` holds what they share
//! (running the binary, making fixtures, reading results back with independent tools).

mod bad_input;
mod build;
mod clip;
mod cover;
mod examples;
mod fallback;
mod formats;
mod hostile;
mod manifest;
mod probe;
mod util;
mod validate;
