//! The feedback suppressor stage (`dsp::feedback`). Right after the filters, before everything
//! else: a howl is taken out before the gate, the EQ and the dynamics see it (a compressor or the
//! AGC would otherwise duck the voice under the howl, the gate would hold open on it), and before
//! the delay and the reverb would spread it into their tails. Where a notch sits in the loop does
//! not change the loop's gain; where the detector listens decides what it hears first, and here
//! it hears the microphone after only the high-pass (which takes rumble out of its spectra).

use super::{lanes, Ctx, Stage, StageInfo};
use crate::bridge::Bridge;
use crate::dsp::feedback::{shift, FeedbackSettings, FeedbackSuppressor, FIXED, MAX_COUNT, NOTCHES};
use crate::param_kinds::{linear_param, switch};
use nice_plug::prelude::*;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedbackMode {
    /// Dynamic notches only (the fixed ones are kept, not used).
    #[id = "notch"]
    #[name = "Notch"]
    Notch,
    /// Dynamic notches and the fixed ones a ring-out placed.
    #[id = "notch_fixed"]
    #[name = "Notch + Fixed"]
    NotchFixed,
    /// Both sets of notches and a 2 Hz frequency shift (decorrelates the loop: more stable gain,
    /// at the cost of a slight detune; the canceller's mode shifts by 2 Hz too).
    #[id = "notch_shift"]
    #[name = "Notch + Fixed + Shift"]
    NotchShift,
    /// All of the above and an adaptive canceller (`dsp::feedback::afc`), run by the chain: it
    /// learns the path from the output back to the input while a howl is in sight, and
    /// subtracts what comes back.
    #[id = "canceller"]
    #[name = "Notch + Fixed + Shift + Canceller"]
    Canceller,
}

impl FeedbackMode {
    /// The frequency shift the mode runs (Hz; 0: none).
    pub fn shift_hz(self) -> f32 {
        match self {
            FeedbackMode::NotchShift => shift::NOTCH_SHIFT_HZ,
            FeedbackMode::Canceller => shift::CANCELLER_SHIFT_HZ,
            FeedbackMode::Notch | FeedbackMode::NotchFixed => 0.0,
        }
    }
}

/// The fixed notches as saved with the project (`fb_fixed`): written by the audio thread when a
/// ring-out places one, by the host's thread when a state loads. A sequence count guards the
/// entries (odd while they are being written), so a reader never takes a half-written set.
#[derive(Debug, Default)]
pub struct FixedStore {
    seq: AtomicU32,
    /// Bumped on every load from a saved state (the audio thread adopts the set).
    loaded: AtomicU32,
    count: AtomicU32,
    freq: [AtomicU32; FIXED],
    depth: [AtomicU32; FIXED],
}

impl FixedStore {
    /// Writes a set (no allocation: the audio thread calls it).
    pub fn write(&self, set: &[(f32, f32)]) {
        self.seq.fetch_add(1, Ordering::AcqRel);
        let n = set.len().min(FIXED);
        for (i, &(f, d)) in set.iter().take(n).enumerate() {
            self.freq[i].store(f.to_bits(), Ordering::Relaxed);
            self.depth[i].store(d.to_bits(), Ordering::Relaxed);
        }
        self.count.store(n as u32, Ordering::Relaxed);
        self.seq.fetch_add(1, Ordering::AcqRel);
    }

    /// Reads the set into `out`; None while a write is under way (try again later).
    pub fn read(&self, out: &mut [(f32, f32); FIXED]) -> Option<usize> {
        let before = self.seq.load(Ordering::Acquire);
        if before % 2 == 1 {
            return None;
        }
        let n = (self.count.load(Ordering::Relaxed) as usize).min(FIXED);
        for (i, o) in out.iter_mut().take(n).enumerate() {
            *o = (f32::from_bits(self.freq[i].load(Ordering::Relaxed)), f32::from_bits(self.depth[i].load(Ordering::Relaxed)));
        }
        (self.seq.load(Ordering::Acquire) == before).then_some(n)
    }

    pub fn loaded(&self) -> u32 {
        self.loaded.load(Ordering::Acquire)
    }

    /// The set as a list (not on the audio thread).
    pub fn to_vec(&self) -> Vec<(f32, f32)> {
        let mut out = [(0.0, 0.0); FIXED];
        loop {
            if let Some(n) = self.read(&mut out) {
                return out[..n].to_vec();
            }
            std::hint::spin_loop();
        }
    }
}

/// The store as the parameter struct holds it (shared with editors and tools).
#[derive(Debug, Clone, Default)]
pub struct FixedHandle(pub Arc<FixedStore>);

impl std::ops::Deref for FixedHandle {
    type Target = FixedStore;
    fn deref(&self) -> &FixedStore {
        &self.0
    }
}

impl<'a> nice_plug::params::persist::PersistentField<'a, Vec<(f32, f32)>> for FixedHandle {
    fn set(&self, new_value: Vec<(f32, f32)>) {
        self.write(&new_value);
        self.loaded.fetch_add(1, Ordering::AcqRel);
    }
    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&Vec<(f32, f32)>) -> R,
    {
        f(&self.to_vec())
    }
}

#[derive(Params)]
pub struct FeedbackParams {
    #[id = "fb_on"]
    pub on: BoolParam,
    #[id = "fb_mode"]
    pub mode: EnumParam<FeedbackMode>,
    #[id = "fb_sens"]
    pub sensitivity: FloatParam,
    #[id = "fb_depth"]
    pub max_depth: FloatParam,
    #[id = "fb_width"]
    pub width: FloatParam,
    #[id = "fb_release"]
    pub release: FloatParam,
    /// How many dynamic notches may hold at once.
    #[id = "fb_count"]
    pub count: IntParam,
    /// Ring-out: while on, found howls go to the fixed notches.
    #[id = "fb_learn"]
    pub learn: BoolParam,
    /// Lifts every fixed notch when it turns on, and in mode canceller empties the canceller too
    /// (switch it off again to arm it once more).
    #[id = "fb_clear"]
    pub clear: BoolParam,
    /// The fixed notches, saved with the project.
    #[persist = "fb_fixed"]
    pub fixed: FixedHandle,
}

/// The notch width in octaves shown as a fraction ("1/20 oct").
fn width_to_string() -> Arc<dyn Fn(f32) -> String + Send + Sync> {
    Arc::new(|v| format!("1/{:.0}", 1.0 / v.max(1e-3)))
}

/// "1/20", "1/20 oct" or "0.05" (octaves).
type Parse = Arc<dyn Fn(&str) -> Option<f32> + Send + Sync>;

fn string_to_width() -> Parse {
    Arc::new(|s| {
        let s = s.trim().trim_end_matches("oct").trim();
        match s.split_once('/') {
            Some((a, b)) => Some(a.trim().parse::<f32>().ok()? / b.trim().parse::<f32>().ok()?),
            None => s.parse::<f32>().ok(),
        }
    })
}

impl Default for FeedbackParams {
    fn default() -> Self {
        let d = FeedbackSettings::default();
        Self {
            on: switch("Feedback Suppressor", false),
            mode: EnumParam::new("Feedback Mode", FeedbackMode::NotchFixed),
            sensitivity: linear_param("Feedback Sensitivity", d.sensitivity * 100.0, 0.0, 100.0, " %", 0),
            max_depth: linear_param("Feedback Max Depth", d.max_depth_db, 3.0, 24.0, " dB", 1),
            width: FloatParam::new(
                "Notch Width",
                d.width_oct,
                FloatRange::Skewed { min: 1.0 / 80.0, max: 0.1, factor: FloatRange::skew_factor(-1.0) },
            )
            .with_unit(" oct")
            .with_value_to_string(width_to_string())
            .with_string_to_value(string_to_width()),
            release: FloatParam::new(
                "Notch Release",
                d.release_s,
                FloatRange::Skewed { min: 1.0, max: 300.0, factor: FloatRange::skew_factor(-2.0) },
            )
            .with_unit(" s")
            .with_value_to_string(formatters::v2s_f32_rounded(1)),
            count: IntParam::new("Feedback Notches", d.notches as i32, IntRange::Linear { min: 1, max: MAX_COUNT as i32 }),
            learn: switch("Feedback Learn", false),
            clear: switch("Feedback Clear", false),
            fixed: FixedHandle::default(),
        }
    }
}

lanes!(FeedbackLanes for FeedbackParams { sensitivity, max_depth });

/// The suppressor with what the stage keeps to sync its fixed notches with the saved set.
#[derive(Debug, Clone, Default)]
pub struct Feedback {
    pub dsp: FeedbackSuppressor,
    /// The store's load count adopted, the DSP's fixed-set version saved.
    loaded_seen: u32,
    saved: u32,
    clear_was: bool,
    /// Bumped on each rise of "clear": the chain's canceller forgets the path it learnt.
    pub clears: u32,
    /// Whether a block has run since `prepare` or `reset`: a set loaded before then cuts at once
    /// (a session or a render starts with its room's notches), one loaded after glides.
    running: bool,
}

impl Feedback {
    /// Adopts a freshly loaded fixed set (at once before the first block, else gliding); saves
    /// one the DSP changed; clears on the button's rise.
    fn sync(&mut self, p: &FeedbackParams) {
        let loaded = p.fixed.loaded();
        if loaded != self.loaded_seen {
            let mut set = [(0.0f32, 0.0f32); FIXED];
            if let Some(n) = p.fixed.read(&mut set) {
                self.loaded_seen = loaded;
                if self.running {
                    self.dsp.glide_to_fixed(&set[..n]);
                } else {
                    self.dsp.load_fixed(&set[..n]);
                }
                self.saved = self.dsp.fixed_generation;
            }
        }
        let clear = p.clear.value();
        if clear && !self.clear_was {
            self.dsp.clear_fixed();
            self.clears = self.clears.wrapping_add(1);
        }
        self.clear_was = clear;
    }

    fn save(&mut self, p: &FeedbackParams) {
        if self.dsp.fixed_generation != self.saved {
            self.saved = self.dsp.fixed_generation;
            let mut set = [(0.0f32, 0.0f32); FIXED];
            let n = self.dsp.fixed_into(&mut set);
            p.fixed.write(&set[..n]);
        }
    }
}

impl Stage for Feedback {
    type Params = FeedbackParams;
    type Lanes = FeedbackLanes;
    const INFO: StageInfo = StageInfo { name: "Feedback Suppressor", switch: "fb_on", with: &[] };

    fn is_on(p: &FeedbackParams) -> bool {
        p.on.value()
    }
    fn prepare(&mut self, sample_rate: f32) {
        self.dsp.prepare(sample_rate);
        self.running = false;
    }
    fn reset(&mut self) {
        self.dsp.reset();
        self.running = false;
    }
    /// A notch lifts over `LIFT_S` after its release time; its filters ring a few periods. In the
    /// modes with a shift, its allpass chains ring longer (0.4 s to −150 dB).
    fn tail_seconds(p: &FeedbackParams, _: &Ctx, depth_db: f32) -> f32 {
        if p.mode.value().shift_hz() > 0.0 {
            shift::ring_seconds(depth_db).max(0.1)
        } else {
            0.1
        }
    }
    /// Its detector holds the last analysis window; silence clears it.
    fn settle_seconds(_: &FeedbackParams) -> f32 {
        0.1
    }
    /// Silence: the dynamic notches' hold goes on counting in a real session, but nothing grows
    /// in silence; the fixed notches stay; the shift's oscillator turns on by the frames skipped.
    fn skip_silence(&mut self, frames: u64) {
        self.dsp.skip_silence(frames);
    }
    #[inline]
    fn process(&mut self, chans: &mut [&mut [f32]], l: &FeedbackLanes, steady: bool, p: &FeedbackParams, ctx: &Ctx, fade: &[f32]) {
        self.sync(p);
        let mode = p.mode.value();
        let (fixed_on, shift_hz) = (mode != FeedbackMode::Notch, mode.shift_hz());
        let (width_oct, release_s, learn, notches) = (p.width.value(), p.release.value(), p.learn.value(), p.count.value().max(1) as usize);
        let settings = |i: usize| {
            let i = if steady { 0 } else { i };
            FeedbackSettings {
                fixed_on,
                sensitivity: l.sensitivity[i] * 0.01,
                max_depth_db: l.max_depth[i],
                width_oct,
                release_s,
                learn,
                shift_hz,
                notches,
            }
        };
        self.dsp.listen_to(ctx.listen);
        self.dsp.process_block(chans, settings, fade);
        self.running = true;
        self.save(p);
    }
    fn publish(&mut self, bridge: &Bridge) {
        let mut k = 0;
        for (freq, depth, fixed) in self.dsp.notches() {
            if k < NOTCHES {
                bridge.fb_notch_freq[k].store(freq, Ordering::Relaxed);
                bridge.fb_notch_depth[k].store(if fixed { -depth } else { depth }, Ordering::Relaxed);
                k += 1;
            }
        }
        for j in k..NOTCHES {
            bridge.fb_notch_freq[j].store(0.0, Ordering::Relaxed);
        }
        bridge.fb_found.store(self.dsp.found, Ordering::Relaxed);
        bridge.fb_heard.store(self.dsp.heard, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::BLOCK;
    use crate::params::LivechainParams;
    use nice_plug::params::persist::PersistentField;

    fn process(stage: &mut Feedback, p: &FeedbackParams, x: &mut [f32]) {
        let mut lanes = FeedbackLanes::default();
        for c in x.chunks_mut(BLOCK) {
            let n = c.len();
            let steady = crate::stages::Lanes::fill(&mut lanes, p, n);
            stage.process(&mut [c], &lanes, steady, p, &Ctx::plain(48_000.0), &[1.0; BLOCK][..n]);
        }
    }

    /// A set loaded before the first block cuts at once (a session or a render starts with its
    /// room's notches); one loaded while the audio runs glides: its new notch starts from no cut
    /// and reaches its depth within 50 ms, the kept one never moves.
    #[test]
    fn a_set_loaded_before_the_audio_cuts_at_once_and_one_loaded_during_it_glides() {
        let params = LivechainParams::default();
        params.feedback.fixed.set(vec![(1_000.0, 12.0)]);
        let mut stage = Feedback::default();
        Stage::prepare(&mut stage, 48_000.0);
        process(&mut stage, &params.feedback, &mut [0.0f32; 64]);
        assert_eq!(stage.dsp.notches().collect::<Vec<_>>(), vec![(1_000.0, 12.0, true)]);
        params.feedback.fixed.set(vec![(2_000.0, 9.0), (1_000.0, 12.0)]);
        process(&mut stage, &params.feedback, &mut [0.0f32; 64]);
        let depth = |stage: &Feedback, f: f32| stage.dsp.notches().find(|n| n.0 == f).map(|n| n.1);
        assert_eq!(depth(&stage, 1_000.0), Some(12.0), "the kept notch moved");
        let first = depth(&stage, 2_000.0).expect("the new notch is placed");
        assert!(first < 9.0, "the new notch jumped in: {first} dB after one block");
        process(&mut stage, &params.feedback, &mut vec![0.0f32; 2_400]);
        assert_eq!(depth(&stage, 2_000.0), Some(9.0));
        assert_eq!(depth(&stage, 1_000.0), Some(12.0));
        // After a reset (the host's, before it plays again) a load cuts at once again.
        Stage::reset(&mut stage);
        params.feedback.fixed.set(vec![(3_000.0, 6.0)]);
        process(&mut stage, &params.feedback, &mut [0.0f32; 64]);
        assert_eq!(stage.dsp.notches().collect::<Vec<_>>(), vec![(3_000.0, 6.0, true)]);
    }

    /// The fixed notches go into the saved state under `fb_fixed` and come back from it; a
    /// loaded set reaches the running suppressor; a set it learns reaches the saved state.
    #[test]
    fn the_fixed_notches_are_saved_with_the_project() {
        let params = LivechainParams::default();
        params.feedback.fixed.set(vec![(1_000.0, 9.0), (2_500.0, 12.0)]);
        let saved = params.serialize_fields();
        assert!(saved.contains_key("fb_fixed"), "{saved:?}");
        let loaded = LivechainParams::default();
        loaded.deserialize_fields(&saved);
        assert_eq!(loaded.feedback.fixed.to_vec(), vec![(1_000.0, 9.0), (2_500.0, 12.0)]);

        // The running stage adopts what was loaded.
        let mut stage = Feedback::default();
        Stage::prepare(&mut stage, 48_000.0);
        process(&mut stage, &loaded.feedback, &mut [0.0f32; 256]);
        assert_eq!(stage.dsp.fixed(), vec![(1_000.0, 9.0), (2_500.0, 12.0)]);

        // A ring-out's notch is written back for the next save (on the audio thread, without
        // allocating): the DSP learning as the stage runs it with learn on.
        let fresh = LivechainParams::default();
        let p = &fresh.feedback;
        let mut stage = Feedback::default();
        Stage::prepare(&mut stage, 48_000.0);
        let mut x: Vec<f32> = (0..96_000)
            .map(|i| {
                let t = i as f32 / 48_000.0;
                10f32.powf((-60.0 + 60.0 * t).min(-6.0) / 20.0) * (std::f32::consts::TAU * 3_000.0 * t).sin()
            })
            .collect();
        let learn = FeedbackSettings { learn: true, ..FeedbackSettings::default() };
        for c in x.chunks_mut(BLOCK) {
            let n = c.len();
            stage.dsp.process_block(&mut [c], |_| learn, &[1.0; BLOCK][..n]);
            stage.save(p);
        }
        let stored = p.fixed.to_vec();
        assert!(stored.iter().any(|&(f, d)| (f / 3_000.0 - 1.0).abs() < 0.002 && d > 0.0), "{stored:?}");
    }
}
