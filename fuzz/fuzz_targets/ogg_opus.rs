//! Fuzz target `ogg_opus`: the Ogg Opus reader: OpusHead, OpusTags and every packet decoded, from memory.
//! See `soundsticker::fuzzing::ogg_opus`; run with `cargo +nightly fuzz run ogg_opus`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| soundsticker::fuzzing::ogg_opus(data));
