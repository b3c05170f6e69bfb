//! Hostile validate input.
