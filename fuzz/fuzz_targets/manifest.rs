//! Fuzz target `manifest`: the manifest loader (parse, rules, line:column of problems), through a temporary pack.json.
//! See `soundsticker::fuzzing::manifest`; run with `cargo +nightly fuzz run manifest`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| soundsticker::fuzzing::manifest(data));
