//! Fuzz target `json_pos`: the JSON line:column scanner: first line a JSON pointer, the rest the JSON text.
//! See `soundsticker::fuzzing::json_pos`; run with `cargo +nightly fuzz run json_pos`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| soundsticker::fuzzing::json_pos(data));
