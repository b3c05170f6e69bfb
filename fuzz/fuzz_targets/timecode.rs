//! Fuzz target `timecode`: the timecode parser (FromStr) and its documented round trips.
//! See `soundsticker::fuzzing::timecode`; run with `cargo +nightly fuzz run timecode`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| soundsticker::fuzzing::timecode(data));
