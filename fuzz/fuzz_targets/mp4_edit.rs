//! Fuzz target `mp4_edit`: the MP4 edit-list reader (moov/trak/edts/elst), through a temporary file.
//! See `soundsticker::fuzzing::mp4_edit`; run with `cargo +nightly fuzz run mp4_edit`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| soundsticker::fuzzing::mp4_edit(data));
