//! The chain's stages behind one trait. A stage is a processor from `dsp/` plus its parameter
//! group (declared in its module here, next to what it drives) and the few facts the chain needs
//! about it: its switch, its latency, how long it rings on, how to reset it. The chain keeps them
//! in one ordered list (`stage_list!` in `chain.rs`) and derives everything else from that list:
//! the scratch lanes, the fades, the latency, the tail, the bench rows.
//!
//! Adding a stage: a module here (its `Params` struct, its `lanes!` and its `impl Stage`), one
//! nested field in `LivechainParams`, one line in the chain's list. See `docs/architecture.md`.

pub mod agc;
pub mod compressor;
pub mod deesser;
pub mod delay;
pub mod eq;
pub mod feedback;
pub mod filters;
pub mod gate;
pub mod reverb;
pub mod vocoder;

use crate::bridge::Bridge;
use crate::dsp::fade::Fade;
use crate::dsp::BLOCK;
use nice_plug::prelude::*;

/// What the chain knows that a stage may need besides its own parameters.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub sample_rate: f32,
    /// The host's tempo in BPM, when it gives one.
    pub tempo: Option<f64>,
    /// The stream position of the chunk's first sample (samples since the last reset).
    pub clock: u64,
    /// The sidechain input for this chunk (0 to 2 channels, sanitised; at least the chunk long).
    pub side: &'a [[f32; BLOCK]],
    /// With the feedback canceller on: the microphone before cancellation for this chunk (the
    /// channels' mean, after the input gain), what the feedback suppressor's detector listens
    /// to. Empty otherwise.
    pub listen: &'a [f32],
}

impl Ctx<'_> {
    /// A context with no sidechain, at stream position 0 (tests and tools).
    pub fn plain(sample_rate: f32) -> Ctx<'static> {
        Ctx { sample_rate, tempo: None, clock: 0, side: &[], listen: &[] }
    }
}

/// What the tools (command line, benches, tests) need to know of a stage without running it.
#[derive(Debug, Clone, Copy)]
pub struct StageInfo {
    /// The name users see (editor, command line, bench rows).
    pub name: &'static str,
    /// The ID of its on/off switch.
    pub switch: &'static str,
    /// Further settings for "this stage on" in the benches and the all-on reference (for
    /// instance the compressor's lookahead, so its latency path is measured too).
    pub with: &'static [(&'static str, f32)],
}

impl StageInfo {
    /// The settings that switch it on: its switch, then `with`.
    pub fn on(&self) -> impl Iterator<Item = (&'static str, f32)> {
        std::iter::once((self.switch, 1.0)).chain(self.with.iter().copied())
    }
}

/// A stage's per-sample parameter values for one chunk: one named lane per continuous
/// parameter, declared with `lanes!`.
pub trait Lanes: Default + Send {
    type Params;
    /// Fills the lanes for the next `n` samples; true when none of the parameters glides (then
    /// only sample 0 of each lane is written: a steady stage reads its settings once).
    fn fill(&mut self, p: &Self::Params, n: usize) -> bool;
    /// True while any of the parameters glides toward a new value.
    fn gliding(p: &Self::Params) -> bool;
}

/// Declares a stage's lanes: a struct with one `[f32; BLOCK]` per named field, each filled from
/// the parameter field of the same name, so a stage reads `lanes.attack[i]`, never a position.
macro_rules! lanes {
    ($(#[$doc:meta])* $name:ident for $params:ty { $($field:ident),+ $(,)? }) => {
        $(#[$doc])*
        pub struct $name {
            $(pub $field: [f32; $crate::dsp::BLOCK],)+
        }
        impl Default for $name {
            fn default() -> Self {
                Self { $($field: [0.0; $crate::dsp::BLOCK],)+ }
            }
        }
        impl $crate::stages::Lanes for $name {
            type Params = $params;
            #[inline]
            fn fill(&mut self, p: &$params, n: usize) -> bool {
                $crate::stages::fill_lanes([$(&p.$field),+], [$(&mut self.$field),+], n)
            }
            fn gliding(p: &$params) -> bool {
                false $(|| p.$field.smoothed.is_smoothing())+
            }
        }
    };
}
pub(crate) use lanes;

/// One stage of the chain.
pub trait Stage: Default + Send {
    /// Its parameter group.
    type Params;
    /// Its continuous parameters' values for one chunk.
    type Lanes: Lanes<Params = Self::Params>;
    const INFO: StageInfo;

    /// The position of its switch.
    fn is_on(p: &Self::Params) -> bool;
    /// Allocates everything for this rate; the only place that may allocate.
    fn prepare(&mut self, sample_rate: f32);
    /// Clears tails and envelopes; real-time safe.
    fn reset(&mut self);
    /// Called when the stage rises from fully off: by default a full reset, so it starts from
    /// silence rather than from a stale tail.
    fn restart(&mut self) {
        self.reset()
    }
    /// Adopts the settings that change its latency (never smoothed: hosts re-read latency on a
    /// restart) and returns its latency in samples. It counts whether the stage is on or off, so
    /// switching a stage never moves the chain's timing.
    fn sync_latency(&mut self, _p: &Self::Params) -> usize {
        0
    }
    /// How long its output rings on after the input stops, in seconds, at these settings
    /// (asked only while it is on): until its tail has fallen `depth_db` below the signal
    /// (`SILENCE_DB` for "gone").
    fn tail_seconds(_p: &Self::Params, _ctx: &Ctx, _depth_db: f32) -> f32 {
        0.0
    }
    /// How long after the input stops its state still moves in a way the next input would hear
    /// (an envelope releasing, a detector emptying), in seconds, at these settings.
    fn settle_seconds(_p: &Self::Params) -> f32 {
        0.0
    }
    /// `frames` samples of silence passed without being processed, after the stage's tail and
    /// settling time: bring its state to where they would have left it. By default a reset (every
    /// tail gone); a stage that keeps something through silence (a held gain, an LFO's phase)
    /// keeps it.
    fn skip_silence(&mut self, _frames: u64) {
        self.reset()
    }
    /// Processes one chunk (1 or 2 channels, at most `BLOCK` frames) in place. `steady`: none of
    /// its lanes glides, so only sample 0 of each is valid; `fade[i]` is its switch's fade.
    fn process(&mut self, chans: &mut [&mut [f32]], lanes: &Self::Lanes, steady: bool, p: &Self::Params, ctx: &Ctx, fade: &[f32]);
    /// What it does to a chunk while off and settled: nothing, unless it must keep its latency.
    fn process_off(&mut self, _chans: &mut [&mut [f32]]) {}
    /// Hands what the editor shows of it to the bridge, once per block.
    fn publish(&mut self, _bridge: &Bridge) {}
}

/// A stage with what the chain keeps for it: its lanes, its switch's fade and the fade's lane.
pub struct Slot<S: Stage> {
    pub dsp: S,
    pub(super) lanes: S::Lanes,
    fade: Fade,
    pub(super) fade_lane: [f32; BLOCK],
}

impl<S: Stage> Default for Slot<S> {
    fn default() -> Self {
        Self { dsp: S::default(), lanes: S::Lanes::default(), fade: Fade::default(), fade_lane: [0.0; BLOCK] }
    }
}

impl<S: Stage> Slot<S> {
    /// Fills the lanes and the fade for the next `n` samples (parameters advance whether the
    /// stage is on or not). Returns whether it is active (on, or still fading out) and steady.
    #[inline]
    pub(super) fn begin(&mut self, p: &S::Params, n: usize) -> (bool, bool) {
        let steady = self.lanes.fill(p, n);
        let on = S::is_on(p);
        let active = !self.fade.is_off(on);
        if self.fade.fill(on, &mut self.fade_lane[..n]) {
            self.dsp.restart();
        }
        (active, steady)
    }

    #[inline]
    /// No fade moves and no parameter glides.
    pub(super) fn settled(&self, p: &S::Params) -> bool {
        self.fade.is_settled(S::is_on(p)) && !S::Lanes::gliding(p)
    }

    /// How long silence must last before the stage may stop being processed: its tail and its
    /// settling time while it is on; nothing while it is off (it restarts afresh when switched on).
    pub(super) fn quiet_after(&self, p: &S::Params, ctx: &Ctx) -> f32 {
        if S::is_on(p) {
            S::tail_seconds(p, ctx, SILENCE_DB).max(S::settle_seconds(p))
        } else {
            0.0
        }
    }

    pub(super) fn run(&mut self, chans: &mut [&mut [f32]], active: bool, steady: bool, p: &S::Params, ctx: &Ctx) {
        let n = chans.first().map_or(0, |c| c.len());
        if active {
            self.dsp.process(chans, &self.lanes, steady, p, ctx, &self.fade_lane[..n]);
        } else {
            self.dsp.process_off(chans);
        }
    }
}

/// What the chain's list holds: a `Slot`, or several stages run together (`filters::Filters`).
pub trait Runner: Default + Send {
    type Params;
    /// The stages it runs, in signal order.
    const INFOS: &'static [StageInfo];
    fn prepare(&mut self, sample_rate: f32);
    /// Jumps its switches to their current positions (a host reset).
    fn snap(&mut self, p: &Self::Params);
    fn reset(&mut self);
    fn sync_latency(&mut self, p: &Self::Params) -> usize;
    /// The longest tail of its stages that are on, in seconds, to `depth_db` down (0 when
    /// none rings).
    fn tail_seconds(&self, p: &Self::Params, ctx: &Ctx, depth_db: f32) -> f32;
    /// Processes one chunk of `chans` (1 or 2 channels) in place.
    fn chunk(&mut self, chans: &mut [&mut [f32]], p: &Self::Params, ctx: &Ctx);
    /// The seconds of silent input after which its stages may stop being processed (see
    /// `Slot::quiet_after`).
    fn quiet_after(&self, p: &Self::Params, ctx: &Ctx) -> f32;
    /// No switch fades and no parameter glides: skipping a block changes nothing to come.
    fn settled(&self, p: &Self::Params) -> bool;
    /// See `Stage::skip_silence`.
    fn skip_silence(&mut self, frames: u64);
    fn publish(&mut self, bridge: &Bridge);
}

impl<S: Stage> Runner for Slot<S> {
    type Params = S::Params;
    const INFOS: &'static [StageInfo] = &[S::INFO];

    fn prepare(&mut self, sample_rate: f32) {
        self.fade.prepare(sample_rate);
        self.dsp.prepare(sample_rate);
    }

    fn snap(&mut self, p: &S::Params) {
        self.fade.snap(S::is_on(p));
    }

    fn reset(&mut self) {
        self.dsp.reset();
    }

    fn sync_latency(&mut self, p: &S::Params) -> usize {
        self.dsp.sync_latency(p)
    }

    fn tail_seconds(&self, p: &S::Params, ctx: &Ctx, depth_db: f32) -> f32 {
        if S::is_on(p) {
            S::tail_seconds(p, ctx, depth_db)
        } else {
            0.0
        }
    }

    #[inline]
    fn chunk(&mut self, chans: &mut [&mut [f32]], p: &S::Params, ctx: &Ctx) {
        let n = chans.first().map_or(0, |c| c.len());
        let (active, steady) = self.begin(p, n);
        self.run(chans, active, steady, p, ctx);
    }

    fn publish(&mut self, bridge: &Bridge) {
        self.dsp.publish(bridge);
    }

    fn quiet_after(&self, p: &S::Params, ctx: &Ctx) -> f32 {
        Slot::quiet_after(self, p, ctx)
    }

    fn settled(&self, p: &S::Params) -> bool {
        Slot::settled(self, p)
    }

    fn skip_silence(&mut self, frames: u64) {
        self.dsp.skip_silence(frames);
    }
}

/// Fills a stage's `lanes` from its `params` for the next `n` samples; true when none of them
/// glides. A steady stage reads its settings once, from sample 0 (`Filter::process_block`,
/// `block_stage!`), so then only sample 0 of each lane is written; while any glides, every lane
/// is filled for every sample.
#[inline]
pub fn fill_lanes<const K: usize>(params: [&FloatParam; K], lanes: [&mut [f32; BLOCK]; K], n: usize) -> bool {
    if params.iter().any(|p| p.smoothed.is_smoothing()) {
        for (param, lane) in params.iter().zip(lanes) {
            fill(param, &mut lane[..n]);
        }
        false
    } else {
        for (param, lane) in params.iter().zip(lanes) {
            lane[0] = param.smoothed.next();
        }
        true
    }
}

/// The smoothed value of `param` for each of the next `out.len()` samples.
#[inline]
pub fn fill(param: &FloatParam, out: &mut [f32]) {
    if param.smoothed.is_smoothing() {
        let n = out.len();
        param.smoothed.next_block(out, n);
    } else {
        out.fill(param.smoothed.next());
    }
}

/// Runs a `BlockStage`: `process_steady` with its settings built once when `steady` (none of
/// its parameters glides: every sample's settings are the same values), `process_block`
/// otherwise.
macro_rules! block_stage {
    ($stage:expr, $chans:expr, $steady:expr, $settings:expr, $fade:expr) => {
        if $steady {
            $crate::dsp::BlockStage::process_steady($stage, $chans, $settings(0), $fade)
        } else {
            $crate::dsp::BlockStage::process_block($stage, $chans, $settings, $fade)
        }
    };
}
pub(crate) use block_stage;

/// How far a tail falls before it is gone: far under any converter's noise floor (a 24-bit
/// converter's is about −144 dBFS).
pub const SILENCE_DB: f32 = 150.0;
