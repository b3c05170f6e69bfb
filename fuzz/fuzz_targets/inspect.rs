//! Fuzz target `inspect`: the pack inspector: RIFF/WebP, PNG/APNG, GIF and EBML/WebM headers, from memory.
//! See `soundsticker::fuzzing::inspect`; run with `cargo +nightly fuzz run inspect`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| soundsticker::fuzzing::inspect(data));
