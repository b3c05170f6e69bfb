//! Hostile audio input.
