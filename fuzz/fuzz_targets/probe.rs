//! Fuzz target `probe`: probe on any bytes: first byte picks the extension (WAV, FLAC, MP3, M4A, Ogg, AIFF, Opus, M4A).
//! See `soundsticker::fuzzing::probe`; run with `cargo +nightly fuzz run probe`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| soundsticker::fuzzing::probe(data));
