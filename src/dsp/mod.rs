//! Pure signal processing. Nothing in here knows about nice-plug, the editor or threads.
//!
//! Every processor follows the same contract (see DESIGN.md): `prepare` allocates everything,
//! `reset` clears state without allocating, `latency` reports samples of delay, and processing
//! works in place so that any block split gives the same output.

pub mod bypass;
pub mod delay_line;
pub mod denormal;
pub mod svf;
pub mod kweight;
pub mod compressor;
pub mod agc;
pub mod delay;
pub mod reverb;
pub mod fade;
pub mod fastmath;

/// The most channels any processor handles.
pub const MAX_CH: usize = 2;

/// The common shape of the chain's processors.
pub trait Processor {
    /// Allocates for `sample_rate`; the only place that may allocate.
    fn prepare(&mut self, sample_rate: f32, max_block: usize);
    /// Clears tails and envelopes; real-time safe.
    fn reset(&mut self);
    /// The delay this processor adds, in samples.
    fn latency(&self) -> usize {
        0
    }
}

/// Replaces a non-finite or absurd sample by silence, so that one bad sample from a host cannot
/// poison a filter's or a reverb's state. ±1000 is +60 dBFS: far above any real signal, far below
/// where f32 feedback paths overflow.
#[inline]
pub fn sanitize(x: f32) -> f32 {
    if is_garbage(x) {
        0.0
    } else {
        x
    }
}

/// True for NaN, ±Inf and magnitudes beyond ±`INPUT_LIMIT`: not audio, a host or driver fault.
#[inline]
pub fn is_garbage(x: f32) -> bool {
    !(x.abs() <= INPUT_LIMIT)
}

pub const INPUT_LIMIT: f32 = 1000.0;

/// One step of Marsaglia's xorshift32 (state ≠ 0): the deterministic noise of the seeded test
/// signal and of the tests.
#[inline]
pub fn xorshift32(state: &mut u32) -> u32 {
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    *state
}

/// Flushes values too small to hear (below −600 dBFS, including every subnormal) to zero.
#[inline]
pub fn flush_tiny(x: f32) -> f32 {
    if x.abs() < 1e-30 {
        0.0
    } else {
        x
    }
}

/// Converts decibels to a linear gain factor.
#[inline]
pub fn db_to_gain(db: f32) -> f32 {
    (db * (std::f32::consts::LN_10 / 20.0)).exp()
}

/// Converts a linear gain to decibels, with a floor for silence.
#[inline]
pub fn gain_to_db(g: f32) -> f32 {
    20.0 * g.abs().max(1e-12).log10()
}
