//! Fuzz target `cover_art`: cover-art loading (format sniffing, decoder limits, orientation), through a temporary file.
//! See `soundsticker::fuzzing::cover_art`; run with `cargo +nightly fuzz run cover_art`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| soundsticker::fuzzing::cover_art(data));
