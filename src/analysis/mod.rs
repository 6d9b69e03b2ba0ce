//! Measuring, not changing, the signal: meters that the audio thread feeds and the editor reads.

pub mod peak;
pub mod loudness;
pub mod latency;
