//! Hostile build input.
