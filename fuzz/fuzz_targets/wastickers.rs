//! Fuzz target `wastickers`: the zip / .wastickers reader and validate: first byte the platform, the rest the archive.
//! See `soundsticker::fuzzing::wastickers`; run with `cargo +nightly fuzz run wastickers`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| soundsticker::fuzzing::wastickers(data));
