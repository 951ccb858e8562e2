//! Tests only: see `tests/byok.rs`.
