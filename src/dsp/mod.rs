//! Pure signal processing. Nothing in here knows about nice-plug, the editor or threads.
//!
//! Every processor follows the same contract (see `docs/architecture.md`): `prepare` allocates everything,
//! `reset` clears state without allocating, `latency` reports samples of delay, and processing
//! works in place so that any block split gives the same output.

pub mod agc;
pub mod bypass;
pub mod compressor;
pub mod deesser;
pub mod delay;
pub mod delay_line;
pub mod denormal;
pub mod eq;
pub mod fade;
pub mod fastmath;
pub mod feedback;
pub mod gate;
pub mod kweight;
pub mod reverb;
pub mod ring;
pub mod svf;
pub mod vocoder;

/// The most channels any processor handles.
pub const MAX_CH: usize = 2;

/// The most frames a processor takes at once: the chain works in chunks of this size, so all
/// scratch space is fixed-size. No result depends on it: everything advances per sample.
pub const BLOCK: usize = 128;

/// Samples per control period, for what moves far slower than audio (the AGC's gain, the
/// reverb's LFOs): decided once per period, a straight line between. Periods are counted in
/// stream samples from the last reset, so the output does not depend on how blocks are cut.
pub const CONTROL: usize = 16;

/// 1, 2, … CONTROL: a sample's place in its control period, counted from 1 (a line that starts
/// from the last control value reaches the next one on the period's last sample).
pub const RAMP: [f32; CONTROL] = {
    let mut r = [0.0f32; CONTROL];
    let mut k = 0;
    while k < CONTROL {
        r[k] = (k + 1) as f32;
        k += 1;
    }
    r
};

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

/// A stage that processes a block of frames at once (1 or 2 channels, at most its `BLOCK`
/// frames), `settings(i)` and `fade[i]` being sample i's; its frame form, `tick`, is that block
/// form on a block of one, so the two cannot drift apart.
pub trait BlockStage {
    type Settings: Copy;

    fn process_block(&mut self, chans: &mut [&mut [f32]], settings: impl Fn(usize) -> Self::Settings, fade: &[f32]);

    /// `process_block` with settings `s` held over the whole block (the chain's steady case).
    /// A stage whose plan or settings can be built once for a held block overrides this with a
    /// faster form that must give the same bits (`block_test::assert_steady_matches_general`).
    #[inline]
    fn process_steady(&mut self, chans: &mut [&mut [f32]], s: Self::Settings, fade: &[f32]) {
        self.process_block(chans, |_| s, fade)
    }

    /// Processes one frame (1 or 2 channels) in place; `amount` (0..1) is the stage's fade.
    #[inline]
    fn tick(&mut self, frame: &mut [f32], s: &Self::Settings, amount: f32) {
        let (first, second) = frame.split_at_mut(1.min(frame.len()));
        let channels = if second.is_empty() { 1 } else { 2 };
        let mut chans: [&mut [f32]; MAX_CH] = [first, second];
        self.process_block(&mut chans[..channels], |_| *s, &[amount]);
    }
}

/// Implements `BlockStage` for a stage by its inherent `process_block` (and, with `steady`,
/// its inherent `process_steady`).
macro_rules! block_stage_impl {
    ($stage:ty, $settings:ty) => {
        impl $crate::dsp::BlockStage for $stage {
            type Settings = $settings;
            #[inline(always)]
            fn process_block(&mut self, chans: &mut [&mut [f32]], settings: impl Fn(usize) -> $settings, fade: &[f32]) {
                <$stage>::process_block(self, chans, settings, fade)
            }
        }
    };
    ($stage:ty, $settings:ty, steady) => {
        impl $crate::dsp::BlockStage for $stage {
            type Settings = $settings;
            #[inline(always)]
            fn process_block(&mut self, chans: &mut [&mut [f32]], settings: impl Fn(usize) -> $settings, fade: &[f32]) {
                <$stage>::process_block(self, chans, settings, fade)
            }
            #[inline(always)]
            fn process_steady(&mut self, chans: &mut [&mut [f32]], s: $settings, fade: &[f32]) {
                <$stage>::process_steady(self, chans, s, fade)
            }
        }
    };
}
use block_stage_impl;

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

/// The largest |x| of a block (0 for an empty one; NaNs are passed over), four lanes at a time.
#[inline]
pub fn max_abs(block: &[f32]) -> f32 {
    let quads = block.chunks_exact(4);
    let rest = quads.remainder();
    let mut lanes = wide::f32x4::ZERO;
    for q in quads {
        let v = wide::f32x4::new([q[0], q[1], q[2], q[3]]).abs();
        // On x86-64 one `maxps`, which gives its second operand where the first is a NaN.
        #[cfg(target_arch = "x86_64")]
        {
            lanes = v.fast_max(lanes);
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            lanes = lanes.max(v);
        }
    }
    rest.iter().chain(&lanes.to_array()).fold(0.0f32, |m, &x| m.max(x.abs()))
}

/// Test support for the stages that run a block at once.
#[cfg(test)]
pub(crate) mod block_test {
    use super::BlockStage;

    /// Feeds `a` blocks of the `sizes` given (cycled, `count` blocks in all) and `b` the same
    /// input frame after frame, and asserts after every block that their outputs are the same
    /// bits and that `check` holds for the two. `input`, `settings` and `fade` give the value at
    /// sample t of the whole run (`input` channel after channel within a block).
    #[allow(clippy::too_many_arguments)]
    pub fn assert_blocks_match_frames<T: BlockStage>(
        a: &mut T,
        b: &mut T,
        channels: usize,
        sizes: &[usize],
        count: usize,
        mut input: impl FnMut(usize) -> f32,
        settings: impl Fn(usize) -> T::Settings,
        fade: impl Fn(usize) -> f32,
        mut check: impl FnMut(&T, &T),
    ) {
        let mut pos = 0usize;
        for &size in sizes.iter().cycle().take(count) {
            let fades: Vec<f32> = (pos..pos + size).map(&fade).collect();
            let mut x: Vec<Vec<f32>> = (0..channels).map(|_| (pos..pos + size).map(&mut input).collect()).collect();
            let mut want = x.clone();
            for i in 0..size {
                let mut frame: Vec<f32> = want.iter().map(|c| c[i]).collect();
                b.tick(&mut frame, &settings(pos + i), fades[i]);
                for (c, v) in want.iter_mut().zip(frame) {
                    c[i] = v;
                }
            }
            let mut chans: Vec<&mut [f32]> = x.iter_mut().map(|c| c.as_mut_slice()).collect();
            a.process_block(&mut chans, |i| settings(pos + i), &fades);
            for (got, want) in x.iter().zip(&want) {
                assert_eq!(
                    got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "at {pos}"
                );
            }
            check(a, b);
            pos += size;
        }
    }

    /// Feeds `a` through `process_steady` and `b` through `process_block` with the same held
    /// settings, block after block (the `sizes` given, cycled, `count` blocks in all; a new
    /// hold, `hold(k / per_hold)`, every `per_hold` blocks), and asserts after every block that
    /// their outputs are the same bits and that `check` holds for the two. `input` and `fade`
    /// give the value at sample t of the whole run (`input` channel after channel within a block).
    #[allow(clippy::too_many_arguments)]
    pub fn assert_steady_matches_general<T: BlockStage>(
        a: &mut T,
        b: &mut T,
        channels: usize,
        sizes: &[usize],
        count: usize,
        per_hold: usize,
        mut input: impl FnMut(usize) -> f32,
        hold: impl Fn(usize) -> T::Settings,
        fade: impl Fn(usize) -> f32,
        mut check: impl FnMut(&T, &T),
    ) {
        let mut pos = 0usize;
        for (k, &size) in sizes.iter().cycle().take(count).enumerate() {
            let s = hold(k / per_hold);
            let fades: Vec<f32> = (pos..pos + size).map(&fade).collect();
            let mut x: Vec<Vec<f32>> = (0..channels).map(|_| (pos..pos + size).map(&mut input).collect()).collect();
            let mut y = x.clone();
            let mut xs: Vec<&mut [f32]> = x.iter_mut().map(|c| c.as_mut_slice()).collect();
            a.process_steady(&mut xs, s, &fades);
            let mut ys: Vec<&mut [f32]> = y.iter_mut().map(|c| c.as_mut_slice()).collect();
            b.process_block(&mut ys, |_| s, &fades);
            for (got, want) in x.iter().zip(&y) {
                assert_eq!(
                    got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "{channels} ch, block {k}"
                );
            }
            check(a, b);
            pos += size;
        }
    }
}
