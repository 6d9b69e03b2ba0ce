//! Measuring, not changing, the signal: meters that the audio thread feeds and the editor reads.

pub mod latency;
pub mod loudness;
pub mod loudness_meter;
pub mod meters;
pub mod peak;
pub mod probe;
pub mod rms;
pub mod spectrum;
pub mod true_peak;
