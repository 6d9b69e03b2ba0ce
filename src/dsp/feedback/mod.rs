//! The feedback (howl) suppressor: it listens to its input for a howl building up (`detect`) and
//! puts a narrow notch on it (`notch`), deepening it while the howl goes on growing and lifting it
//! slowly once its frequency has stopped threatening for the release time. Up to sixteen dynamic
//! notches hold at once (eight by default; a held tone's notch on trial holds beside them for its
//! 128 ms), and eight fixed ones that a ring-out ("learn") fills and that stay until cleared.
//!
//! Zero latency: the detector looks at the past (its spectra end at the current sample), the
//! audio only goes through the notches. The analysis runs every eighth of a window, at stream
//! positions counted from the last reset, and every setting is read there, so the output does not
//! depend on how the host cuts its blocks.

pub mod afc;
pub mod detect;
pub mod notch;
pub mod shift;
#[cfg(test)]
mod tests;

use self::detect::{min_slope_for, DetectSettings, Detector, Howl, Tone};
use self::notch::{Notch, ATTACK_DB_PER_S, LIFT_S};
use self::shift::FreqShift;
use super::{BLOCK, MAX_CH};

/// Dynamic notches (found while playing) and fixed ones (found while learning): the slots. At most
/// `MAX_COUNT` dynamic notches hold at once (the setting `FeedbackSettings::notches`); the other
/// slots let a notch that makes room for a new one glide out instead of vanishing.
pub const DYNAMIC: usize = 24;
pub const MAX_COUNT: usize = 16;
pub const FIXED: usize = 8;
pub const NOTCHES: usize = DYNAMIC + FIXED;
/// How much a found howl's notch deepens each time it is found again (dB).
pub const STEP_DB: f32 = 3.0;
/// A new notch's first depth, as a share of the most allowed.
pub const FIRST_SHARE: f32 = 0.5;
/// A held howl's notch (`Howl::held`: a steady lone tone, which a loud flute or test tone is as
/// well) cuts as deep as allowed at once and is on trial for this many analyses after the one
/// that placed it (128 ms at 48 kHz): it stays if the tone falls by `PROOF_DB` meanwhile (a howl
/// does once its loop is broken, unless it is more than the deepest notch over unity) or its
/// track ends, and glides out as fast as it came in if the tone holds (the source's own). A notch
/// on trial holds beside the count (it lifts no howl's notch to make room), and a notch kept by a
/// trial is tried again when a held tone is found on it (a note that ended during its trial, played
/// again, is let go).
pub const TRIAL_HOPS: u16 = 24;
pub const PROOF_DB: f32 = 3.0;
/// A growing howl's new notch breaks its loop: a howl then falls (by the cut, less its excess,
/// every round trip), or (more than the cut over unity) grows on at a fraction of its rate. A
/// tone found growing again on that notch at least `JUDGE_HOPS` analyses after it was placed
/// (128 ms: long enough for the cut to show in the analysis) and within `PROBATION_HOPS` (0.5 s),
/// as fast as `UNMOVED_SHARE` of its first rate or faster, having never fallen by
/// `UNMOVED_DIP_DB` under its loudest since the notch came in, is not going round through the
/// notch: a crescendo on a lone tone (a flute's or a whistle's swell). Its notch glides out and
/// the detector pardons the tone's growth. (A howl whose loop gain rises after its notch came in,
/// a fader pushed or a microphone moved, fell first, and is kept.)
pub const JUDGE_HOPS: u16 = 24;
pub const PROBATION_HOPS: u16 = 96;
pub const UNMOVED_SHARE: f32 = 0.6;
pub const UNMOVED_DIP_DB: f32 = 2.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeedbackSettings {
    /// Whether the fixed notches cut (mode "notch + fixed").
    pub fixed_on: bool,
    /// 0..1: how slow a growth still counts as a howl.
    pub sensitivity: f32,
    /// The deepest a notch may go (dB).
    pub max_depth_db: f32,
    /// Each notch's width (octaves).
    pub width_oct: f32,
    /// How long a dynamic notch stays after its howl was last found (s).
    pub release_s: f32,
    /// Ring-out: found howls go to the fixed notches.
    pub learn: bool,
    /// Shift everything up by this much (Hz; 0: no shift): `shift::NOTCH_SHIFT_HZ` in mode
    /// "notch + fixed + shift", `shift::CANCELLER_SHIFT_HZ` under the canceller.
    pub shift_hz: f32,
    /// How many dynamic notches may hold at once (1 to `MAX_COUNT`; notches on trial hold beside
    /// them): more hold a livelier room stable, fewer colour the sound less.
    pub notches: usize,
}

impl Default for FeedbackSettings {
    fn default() -> Self {
        Self {
            fixed_on: true,
            sensitivity: 0.5,
            max_depth_db: 18.0,
            width_oct: 1.0 / 20.0,
            release_s: 30.0,
            learn: false,
            shift_hz: 0.0,
            notches: 8,
        }
    }
}

#[derive(Debug, Clone)]
pub struct FeedbackSuppressor {
    sr: f32,
    detector: Detector,
    /// `DYNAMIC` dynamic notches, then `FIXED` fixed ones.
    notches: [Notch; NOTCHES],
    /// Each notch's depth while it holds (its target, unless lifting or its set is off).
    keep: [f32; NOTCHES],
    /// Per dynamic notch on trial (a held howl's): analyses left, and the tone's level when it
    /// was placed (dB re full scale).
    trial: [(u16, f32); DYNAMIC],
    /// Per dynamic notch: kept after a trial (its held tone fell), and not found growing since.
    convicted: [bool; DYNAMIC],
    /// Per dynamic notch a growth placed: analyses since, and the howl's rate then (dB/s; 0:
    /// none, or its probation is over); and `heard` as it stood once that howl had urged the
    /// canceller (a pardon ends the urge only if no other howl urged it since).
    probation: [(u16, f32); DYNAMIC],
    probation_heard: [u32; DYNAMIC],
    /// What waits for the slot of the fixed notch gliding out to make room for it, per fixed
    /// slot: (Hz, dB; 0 Hz: nothing). A ring-out's howl (0 dB: placed at a new notch's first
    /// depth), or a loaded set's notch (at its saved depth).
    waiting: [(f32, f32); FIXED],
    width_oct: f32,
    mono: [f32; BLOCK],
    /// What the detector hears instead of the input for the next block, when set (`listen_to`).
    listen: [f32; BLOCK],
    listen_len: usize,
    dry: [[f32; BLOCK]; MAX_CH],
    howls: [Howl; 8],
    shift: FreqShift,
    /// The shift's crossfade (0: out, 1: in) and its step per sample (50 ms), and whether it was
    /// last heading in.
    shift_amount: f32,
    shift_on: bool,
    shift_step: f32,
    amount: [f32; BLOCK],
    /// Howls found (loud enough to notch) since the last reset (for the editor and the tests).
    pub found: u32,
    /// Growing howls in sight since the last reset: those found, and those still too quiet to
    /// notch (`detect::SIGHT_DB`). Each urges the canceller to learn.
    pub heard: u32,
    /// Notches lifted since the last reset because the tone did not answer them (the source's
    /// own): a held tone that did not fall, a growth its notch did not slow.
    pub acquitted: u32,
    /// Growths its notch did not slow since the last reset (counted in `acquitted` too).
    pub pardoned: u32,
    /// Pardons that end the canceller's urge (no other howl urged it since the pardoned one).
    pub calms: u32,
    /// Bumped whenever the fixed set changes here (learned or cleared): the stage saves it.
    pub fixed_generation: u32,
}

impl Default for FeedbackSuppressor {
    fn default() -> Self {
        Self {
            sr: 48_000.0,
            detector: Detector::default(),
            notches: [Notch::default(); NOTCHES],
            keep: [0.0; NOTCHES],
            trial: [(0, 0.0); DYNAMIC],
            convicted: [false; DYNAMIC],
            probation: [(0, 0.0); DYNAMIC],
            probation_heard: [0; DYNAMIC],
            waiting: [(0.0, 0.0); FIXED],
            width_oct: FeedbackSettings::default().width_oct,
            mono: [0.0; BLOCK],
            listen: [0.0; BLOCK],
            listen_len: 0,
            dry: [[0.0; BLOCK]; MAX_CH],
            howls: [Howl { freq: 0.0, level_db: 0.0, slope_db_s: 0.0, notch: false, held: false }; 8],
            heard: 0,
            shift: FreqShift::default(),
            shift_amount: 0.0,
            shift_on: false,
            shift_step: 0.0,
            amount: [0.0; BLOCK],
            found: 0,
            acquitted: 0,
            pardoned: 0,
            calms: 0,
            fixed_generation: 0,
        }
    }
}

impl FeedbackSuppressor {
    pub fn prepare(&mut self, sample_rate: f32) {
        self.sr = sample_rate;
        self.detector.prepare(sample_rate);
        self.shift.prepare(sample_rate);
        self.shift_step = 1.0 / (0.05 * sample_rate);
        // The notches' frequencies stay (the fixed ones are a room's); their filters are remade.
        let fixed: Vec<(f32, f32)> = self.fixed();
        self.notches = [Notch::default(); NOTCHES];
        self.keep = [0.0; NOTCHES];
        self.load_fixed(&fixed);
        self.reset();
    }

    /// Clears the detector, the dynamic notches and every filter's state; the fixed notches
    /// stay (at their depth at once).
    pub fn reset(&mut self) {
        self.shift.reset();
        self.shift_amount = 0.0;
        self.start_afresh();
    }

    /// Silence skipped (the chain idle): the state processing it would have left. Nothing grows
    /// in silence, so detection starts afresh (the fixed notches stay); the shift runs on, its
    /// glide moving toward where it was heading and its oscillator turning on by `frames`, so
    /// the first sample after is what a suppressor that ran all along puts out.
    pub fn skip_silence(&mut self, frames: u64) {
        self.start_afresh();
        let glide = self.shift_step as f64 * frames as f64;
        let amount = self.shift_amount as f64;
        self.shift_amount = if self.shift_on { (amount + glide).min(1.0) } else { (amount - glide).max(0.0) } as f32;
        self.shift.skip(frames);
    }

    /// The detector and the dynamic notches as new; the fixed notches' filters emptied.
    fn start_afresh(&mut self) {
        self.detector.reset();
        for (i, n) in self.notches.iter_mut().enumerate() {
            if i < DYNAMIC {
                *n = Notch::default();
                self.keep[i] = 0.0;
            } else {
                n.clear_state();
            }
        }
        self.trial = [(0, 0.0); DYNAMIC];
        self.convicted = [false; DYNAMIC];
        self.probation = [(0, 0.0); DYNAMIC];
        self.found = 0;
        self.heard = 0;
        self.acquitted = 0;
        self.pardoned = 0;
        self.calms = 0;
    }

    /// The fixed notches (frequency, depth in dB).
    pub fn fixed(&self) -> Vec<(f32, f32)> {
        let mut out = [(0.0, 0.0); FIXED];
        let n = self.fixed_into(&mut out);
        out[..n].to_vec()
    }

    /// The fixed notches into `out` without allocating (the audio thread saves them): how many.
    /// A loaded notch waiting for its slot counts (it is in the set, on its way in).
    pub fn fixed_into(&self, out: &mut [(f32, f32); FIXED]) -> usize {
        let mut k = 0;
        for ((n, &d), &(wf, wd)) in self.notches[DYNAMIC..].iter().zip(&self.keep[DYNAMIC..]).zip(&self.waiting) {
            if !n.is_free() && d > 0.0 {
                out[k] = (n.freq, d);
                k += 1;
            } else if wf > 0.0 && wd > 0.0 {
                out[k] = (wf, wd);
                k += 1;
            }
        }
        k
    }

    /// Replaces the fixed notches (a loaded state, before the audio runs): they cut at once,
    /// with no glide. Invalid entries (a frequency outside 20 Hz to Nyquist, a depth outside 0 to
    /// 30 dB) are left out, and entries within half a notch's width of an earlier one merge into
    /// it (the deeper depth): the set a ring-out would have learnt.
    pub fn load_fixed(&mut self, fixed: &[(f32, f32)]) {
        self.waiting = [(0.0, 0.0); FIXED];
        for i in DYNAMIC..NOTCHES {
            self.notches[i] = Notch::default();
            self.keep[i] = 0.0;
        }
        let (set, count) = self.fixed_set(fixed);
        for (slot, &(f, d)) in (DYNAMIC..NOTCHES).zip(&set[..count]) {
            self.notches[slot].place(f, d, self.width_oct, self.sr);
            self.notches[slot].depth = d;
            self.keep[slot] = d;
        }
    }

    /// Replaces the fixed notches while the audio runs (a state loaded mid-play): nothing jumps.
    /// A notch already on one of the new frequencies, in whichever slot, glides to its new
    /// depth; the others glide out (as fast as a notch comes in); each new frequency left takes a
    /// free slot and glides in, or waits (`waiting`) for a slot gliding out to be gone. The set
    /// (`fixed`) is the new one at once. Entries are checked and merged as by `load_fixed`.
    pub fn glide_to_fixed(&mut self, fixed: &[(f32, f32)]) {
        let (set, count) = self.fixed_set(fixed);
        let mut placed = [false; FIXED];
        let lift = ATTACK_DB_PER_S / self.sr;
        for j in DYNAMIC..NOTCHES {
            self.waiting[j - DYNAMIC] = (0.0, 0.0);
            let n = &mut self.notches[j];
            if n.is_free() {
                continue;
            }
            let same = (0..count).find(|&i| !placed[i] && (n.freq / set[i].0 - 1.0).abs() < 1e-4);
            n.lift = lift;
            if let Some(i) = same {
                placed[i] = true;
                self.keep[j] = set[i].1;
            } else {
                self.keep[j] = 0.0;
                n.target = 0.0;
            }
        }
        for i in (0..count).filter(|&i| !placed[i]) {
            let (f, d) = set[i];
            let free = (DYNAMIC..NOTCHES).find(|&j| self.notches[j].is_free());
            if let Some(j) = free {
                self.glide_in(j, f, d);
            } else if let Some(j) = (DYNAMIC..NOTCHES).find(|&j| self.keep[j] == 0.0 && self.waiting[j - DYNAMIC].0 == 0.0) {
                self.waiting[j - DYNAMIC] = (f, d);
            }
        }
    }

    /// Half a notch's width (octaves): a howl or a fixed entry this near a notch is on it.
    fn half_width_oct(&self) -> f32 {
        0.5 * self.width_oct.max(1.0 / 80.0)
    }

    /// A loaded fixed notch into slot `j`, gliding in from no cut to `depth` (the hop's update
    /// sets its target: its set may be off).
    fn glide_in(&mut self, j: usize, freq: f32, depth: f32) {
        self.notches[j].place(freq, 0.0, self.width_oct, self.sr);
        self.keep[j] = depth;
    }

    /// The fixed set a suppressor at this rate and width can hold, from `fixed`: valid entries,
    /// those within half a notch's width of an earlier one merged into it, at most `FIXED`.
    fn fixed_set(&self, fixed: &[(f32, f32)]) -> ([(f32, f32); FIXED], usize) {
        let nyquist = 0.49 * self.sr;
        let half = self.half_width_oct();
        let (mut set, mut count) = ([(0.0f32, 0.0f32); FIXED], 0);
        for &(f, d) in fixed {
            if !(f.is_finite() && f >= 20.0 && f < nyquist && d.is_finite() && d > 0.0 && d <= 30.0) {
                continue;
            }
            if let Some(e) = set[..count].iter_mut().find(|e| (f / e.0).log2().abs() <= half) {
                e.1 = e.1.max(d);
            } else if count < FIXED {
                set[count] = (f, d);
                count += 1;
            }
        }
        (set, count)
    }

    /// Puts notches in place at once (frequency, depth dB), dynamic slots first then fixed, as
    /// if each howl had just been found: for measuring what a set of notches does to a signal.
    /// (Run it with `FeedbackSettings::notches` at least the count held, or the first analysis
    /// lifts the dynamic ones past it.)
    pub fn hold(&mut self, notches: &[(f32, f32)]) {
        for (j, &(f, d)) in notches.iter().take(NOTCHES).enumerate() {
            self.notches[j].place(f, d, self.width_oct, self.sr);
            self.notches[j].depth = d;
            self.keep[j] = d;
        }
    }

    /// Lifts every fixed notch (they glide out).
    pub fn clear_fixed(&mut self) {
        self.waiting = [(0.0, 0.0); FIXED];
        for i in DYNAMIC..NOTCHES {
            self.keep[i] = 0.0;
            self.notches[i].target = 0.0;
        }
        self.fixed_generation = self.fixed_generation.wrapping_add(1);
    }

    /// Every notch in use: (frequency, depth now in dB, fixed).
    pub fn notches(&self) -> impl Iterator<Item = (f32, f32, bool)> + '_ {
        self.notches.iter().enumerate().filter(|(_, n)| !n.is_free()).map(|(i, n)| (n.freq, n.depth, i >= DYNAMIC))
    }

    /// The notches' combined response at `f` Hz (dB), as they cut now.
    pub fn response_db(&self, f: f32) -> f32 {
        self.notches.iter().map(|n| n.db_at(f, self.sr)).sum()
    }

    pub fn has_subnormal_state(&self) -> bool {
        self.notches.iter().any(Notch::has_subnormal_state)
    }

    /// For the next block only: the detector hears `mono` instead of the block's input (with the
    /// canceller on, the microphone before cancellation: the loop's growth shows there as well,
    /// and the canceller's misadjustment, beating against a held note, does not). Empty: the
    /// input.
    pub fn listen_to(&mut self, mono: &[f32]) {
        let n = mono.len().min(BLOCK);
        self.listen[..n].copy_from_slice(&mono[..n]);
        self.listen_len = n;
    }

    /// Processes a block (1 or 2 channels, at most `BLOCK` frames) in place; `fade[i]` is the
    /// stage's switch. The settings are read where an analysis falls.
    pub fn process_block(&mut self, chans: &mut [&mut [f32]], settings: impl Fn(usize) -> FeedbackSettings, fade: &[f32]) {
        let n = chans.first().map_or(0, |c| c.len()).min(BLOCK).min(fade.len());
        let channels = chans.len().min(MAX_CH);
        if n == 0 || channels == 0 {
            return;
        }
        // (A fold rather than `any`: no early exit, so it runs on SIMD lanes.)
        let fading = fade[..n].iter().fold(false, |acc, &f| acc | (f != 1.0));
        if fading {
            for ch in 0..channels {
                self.dry[ch][..n].copy_from_slice(&chans[ch][..n]);
            }
        }
        let attack = ATTACK_DB_PER_S / self.sr;
        let listen = self.listen_len >= n;
        self.listen_len = 0;
        let mut a = 0;
        while a < n {
            let m = (n - a).min(self.detector.until_hop());
            // The detector hears the input (before the notches) of both channels, or what it was
            // given to listen to.
            if listen {
                self.mono[..m].copy_from_slice(&self.listen[a..a + m]);
            } else if channels == 2 {
                for ((o, &x), &y) in self.mono[..m].iter_mut().zip(&chans[0][a..a + m]).zip(&chans[1][a..a + m]) {
                    *o = 0.5 * (x + y);
                }
            } else {
                self.mono[..m].copy_from_slice(&chans[0][a..a + m]);
            }
            let due = self.detector.push(&self.mono[..m]);
            for notch in self.notches.iter_mut() {
                if !notch.is_active() {
                    continue;
                }
                let lift = notch.lift;
                if channels == 2 {
                    let (l, r) = chans.split_at_mut(1);
                    notch.run(&mut [&mut l[0][a..a + m], &mut r[0][a..a + m]], m, attack, lift);
                } else {
                    notch.run(&mut [&mut chans[0][a..a + m]], m, attack, lift);
                }
            }
            a += m;
            if due {
                self.analyse(&settings(a - 1));
            }
        }
        // The frequency shift, gliding in and out over 50 ms with its mode (a switch: the host's
        // events split blocks, so the block's first sample speaks for it).
        let shift_hz = settings(0).shift_hz;
        let shift_on = shift_hz > 0.0;
        self.shift_on = shift_on;
        if shift_on {
            // (Off, the glide out keeps the shift it had.)
            self.shift.set_hz(shift_hz);
        }
        if shift_on || self.shift_amount > 0.0 {
            if self.shift_amount == 0.0 {
                self.shift.reset();
            }
            for g in self.amount[..n].iter_mut() {
                self.shift_amount =
                    if shift_on { (self.shift_amount + self.shift_step).min(1.0) } else { (self.shift_amount - self.shift_step).max(0.0) };
                *g = self.shift_amount;
            }
            self.shift.run(&mut chans[..channels], n, &self.amount[..n]);
        }
        if fading {
            for ch in 0..channels {
                for ((y, &x), &f) in chans[ch][..n].iter_mut().zip(&self.dry[ch][..n]).zip(fade) {
                    *y = x + f * (*y - x);
                }
            }
        }
    }

    /// One analysis: settings adopted, howls found and notched, holds counted down.
    fn analyse(&mut self, s: &FeedbackSettings) {
        let hop_s = self.detector.hop() as f32 / self.sr;
        let max_depth = s.max_depth_db.clamp(0.0, 30.0);
        if s.width_oct != self.width_oct {
            self.width_oct = s.width_oct;
            for n in self.notches.iter_mut().filter(|n| !n.is_free()) {
                n.set_width(s.width_oct);
            }
        }
        let ds = DetectSettings { min_slope_db_s: min_slope_for(s.sensitivity) };
        let mut howls = self.howls;
        let count = self.detector.analyse(&ds, &mut howls);
        // The notches on trial from earlier analyses, by what this one heard.
        self.judge(s.fixed_on || s.learn, max_depth);
        for p in self.probation.iter_mut().filter(|p| p.1 > 0.0) {
            p.0 += 1;
            if p.0 > PROBATION_HOPS {
                *p = (0, 0.0);
            }
        }
        for h in &howls[..count] {
            if h.notch {
                self.found = self.found.wrapping_add(1);
            }
            // A held howl whose new notch is on trial urges the canceller once kept (`judge`).
            let on_trial = h.notch && self.notch(h, s, max_depth);
            if !on_trial {
                self.heard = self.heard.wrapping_add(1);
            }
        }
        // No more hold than the count allows (it may have been lowered).
        self.fit_count(s.notches.clamp(1, MAX_COUNT));
        // Dynamic notches hold for the release time after their howl was last found, then lift.
        for j in 0..DYNAMIC {
            let n = &mut self.notches[j];
            if n.is_free() {
                continue;
            }
            n.idle_s += hop_s;
            if n.idle_s >= s.release_s && self.keep[j] > 0.0 {
                // It lifts slowly, over `LIFT_S` from where it is (its howl may come back).
                self.keep[j] = 0.0;
                n.lift = n.depth / (LIFT_S * self.sr);
            }
            n.target = self.keep[j].min(max_depth);
            if n.target == 0.0 && n.depth == 0.0 {
                *n = Notch::default();
            }
        }
        // Fixed notches cut in mode "notch + fixed" and while learning.
        let fixed_cut = s.fixed_on || s.learn;
        for j in DYNAMIC..NOTCHES {
            let n = &mut self.notches[j];
            if n.is_free() {
                continue;
            }
            n.target = if fixed_cut { self.keep[j] } else { 0.0 };
            if self.keep[j] == 0.0 && n.depth == 0.0 {
                *n = Notch::default();
                // The howl it made room for takes the slot (learn may be off by now: it was
                // found while ringing out).
                let (freq, depth) = std::mem::take(&mut self.waiting[j - DYNAMIC]);
                if freq > 0.0 && depth > 0.0 {
                    // A loaded notch (the set already has it).
                    self.glide_in(j, freq, depth);
                } else if freq > 0.0 {
                    self.place(j, freq, max_depth);
                    self.fixed_generation = self.fixed_generation.wrapping_add(1);
                }
            }
        }
    }

    /// The notches on trial, after an analysis: one whose tone fell by `PROOF_DB`, or whose track
    /// ended, was on a howl (it stays, and the howl urges the canceller); one whose tone held (or
    /// was only missed now and then) for `TRIAL_HOPS` analyses was on the source's own tone: it
    /// glides out as fast as it came in, and the detector no longer takes that tone for a held
    /// howl. A howl proven over a fixed notch that cuts deepens that one as far as allowed.
    fn judge(&mut self, fixed_cut: bool, max_depth: f32) {
        for j in 0..DYNAMIC {
            let (left, level) = self.trial[j];
            if left == 0 {
                continue;
            }
            if self.keep[j] == 0.0 {
                self.trial[j].0 = 0;
                continue;
            }
            let freq = self.notches[j].freq;
            let howl = match self.detector.tone(freq) {
                Tone::Heard(now) if now <= level - PROOF_DB => true,
                Tone::Gone => true,
                // Holding, or missed once: on to the end of the trial.
                _ if left > 1 => {
                    self.trial[j].0 = left - 1;
                    continue;
                }
                _ => false,
            };
            self.trial[j].0 = 0;
            self.convicted[j] = howl;
            if howl {
                self.heard = self.heard.wrapping_add(1);
                // Proven over a fixed notch that cuts: that one was not deep enough, and now
                // cuts as deep as allowed for good (the set changes on a howl, not on a note).
                let half = self.half_width_oct();
                let under = (DYNAMIC..NOTCHES).filter(|_| fixed_cut).find(|&f| self.keep[f] > 0.0 && covers(&self.notches[f], freq, half));
                if let Some(f) = under.filter(|&f| self.keep[f] < max_depth) {
                    self.keep[f] = max_depth;
                    self.notches[f].target = max_depth;
                    self.fixed_generation = self.fixed_generation.wrapping_add(1);
                }
            } else {
                self.detector.acquit(freq);
                self.acquitted = self.acquitted.wrapping_add(1);
                self.glide_out(j);
            }
        }
    }

    /// A howl found: the notch on it cuts deeper, or a new one is placed, on trial if the howl
    /// was found held (then true).
    fn notch(&mut self, h: &Howl, s: &FeedbackSettings, max_depth: f32) -> bool {
        let freq = h.freq;
        // A notch already on it (within half its width): fixed ones first while they cut.
        let half = self.half_width_oct();
        let covers = |n: &Notch| covers(n, freq, half);
        let fixed_cut = s.fixed_on || s.learn;
        // (Playing, a held tone is not a fixed notch's to deepen: a loud steady note would change
        // the set the ring-out saved. It gets a dynamic notch on trial over it, and a howl proven
        // there deepens the fixed one (`judge`). Ringing out, every howl is the set's.)
        let existing = (DYNAMIC..NOTCHES)
            .filter(|_| fixed_cut && (s.learn || !h.held))
            .chain(0..DYNAMIC)
            .find(|&j| covers(&self.notches[j]) && self.keep[j] > 0.0);
        if let Some(j) = existing {
            if j < DYNAMIC && h.held && self.convicted[j] {
                // A held tone on a notch a held tone's fall kept: on trial again, as deep as
                // allowed. A howl falls again and is kept; the source's own tone (a note that
                // ended during its trial, played again) does not, and is let go. (A notch a
                // growth found is a howl's: a held tone on it deepens it, as before.)
                self.start_trial(j, h, max_depth);
                return true;
            }
            if j < DYNAMIC && !h.held && !s.learn {
                let (since, rate) = self.probation[j];
                if rate > 0.0 && since >= JUDGE_HOPS && h.slope_db_s >= UNMOVED_SHARE * rate && self.detector.dip(freq) < UNMOVED_DIP_DB {
                    // Unmoved by its notch: not a loop through it.
                    self.probation[j] = (0, 0.0);
                    self.glide_out(j);
                    self.detector.pardon(freq);
                    self.acquitted = self.acquitted.wrapping_add(1);
                    self.pardoned = self.pardoned.wrapping_add(1);
                    if self.heard == self.probation_heard[j] {
                        self.calms = self.calms.wrapping_add(1);
                    }
                    return true;
                }
            }
            if j < DYNAMIC {
                self.trial[j].0 = 0;
                self.convicted[j] = false;
                if self.probation[j].1 > 0.0 {
                    // (Its own urge again, not another howl's.)
                    self.probation_heard[j] = self.heard.wrapping_add(1);
                }
            }
            self.keep[j] = (self.keep[j] + STEP_DB).min(max_depth);
            self.notches[j].target = self.keep[j];
            self.notches[j].idle_s = 0.0;
            if j >= DYNAMIC {
                self.fixed_generation = self.fixed_generation.wrapping_add(1);
            }
            return false;
        }
        if s.learn {
            self.learn(freq, max_depth, covers);
            return false;
        }
        let count = s.notches.clamp(1, MAX_COUNT);
        // A dynamic notch gliding out on it (released, or made way) holds again.
        if let Some(j) = self.gliding_on(0..DYNAMIC, &covers) {
            self.convicted[j] = false;
            if h.held {
                // On trial, as a new held tone's notch: beside the count, as deep as allowed.
                self.hold_again(j, max_depth);
                self.start_trial(j, h, max_depth);
                return true;
            }
            self.fit_count(count - 1);
            self.hold_again(j, max_depth);
            self.trial[j].0 = 0;
            self.on_probation(j, h);
            return false;
        }
        // A free slot, and room for one more within the count (the howl longest gone makes way).
        let Some(slot) = (0..DYNAMIC).find(|&j| self.notches[j].is_free()) else {
            // Every slot busy (a high count, with many notches still lifting after their
            // release): those glide out at the rate notches come in, and the howl, if it goes on
            // growing, is found again a few analyses later, when one is free. None is placed
            // over a notch that still cuts.
            for j in (0..DYNAMIC).filter(|&j| self.keep[j] == 0.0) {
                let n = &mut self.notches[j];
                n.lift = n.lift.max(ATTACK_DB_PER_S / self.sr);
            }
            return false;
        };
        // (A notch on trial makes no room: it holds beside the count until kept, so a loud note
        // tried and let go does not lift a howl's notch.)
        if !h.held {
            self.fit_count(count - 1);
        }
        self.place(slot, freq, max_depth);
        self.trial[slot] = (0, 0.0);
        self.convicted[slot] = false;
        self.probation[slot] = (0, 0.0);
        if h.held {
            self.start_trial(slot, h, max_depth);
        } else {
            self.on_probation(slot, h);
        }
        h.held
    }

    /// A howl found while ringing out: a fixed notch gliding out on it holds again; else it takes
    /// a free fixed slot; else the shallowest fixed notch glides out (as fast as a notch comes in)
    /// and the howl takes its slot once it has gone (`waiting`). None is placed over a notch that
    /// still cuts; while one glides out to make room, other new howls wait for a later finding.
    fn learn(&mut self, freq: f32, max_depth: f32, covers: impl Fn(&Notch) -> bool) {
        let fixed = DYNAMIC..NOTCHES;
        let gliding = self.gliding_on(fixed.clone(), &covers).filter(|&j| self.waiting[j - DYNAMIC].1 == 0.0);
        if let Some(j) = gliding {
            // (The howl that was waiting for this slot is found again and makes room anew; a
            // loaded notch waiting for it keeps it.)
            self.waiting[j - DYNAMIC] = (0.0, 0.0);
            self.hold_again(j, max_depth);
        } else if let Some(slot) = fixed.clone().find(|&j| self.notches[j].is_free()) {
            self.place(slot, freq, max_depth);
        } else if fixed.clone().all(|j| self.keep[j] > 0.0) {
            let Some(j) = fixed.min_by(|&a, &b| self.keep[a].total_cmp(&self.keep[b])) else { return };
            self.keep[j] = 0.0;
            self.notches[j].target = 0.0;
            self.waiting[j - DYNAMIC] = (freq, 0.0);
        } else {
            return;
        }
        self.fixed_generation = self.fixed_generation.wrapping_add(1);
    }

    /// The notch among `slots` gliding out (no longer held, still cutting) on the howl `covers`.
    fn gliding_on(&self, mut slots: std::ops::Range<usize>, covers: &impl Fn(&Notch) -> bool) -> Option<usize> {
        slots.find(|&j| covers(&self.notches[j]) && self.keep[j] == 0.0 && self.notches[j].depth > 0.0)
    }

    /// A notch gliding out holds again from the depth it has (at least a new notch's first), so
    /// the cut there never sags while a second notch would come in.
    fn hold_again(&mut self, j: usize, max_depth: f32) {
        let n = &mut self.notches[j];
        self.keep[j] = n.depth.max(first_depth(max_depth)).min(max_depth);
        n.target = self.keep[j];
        n.idle_s = 0.0;
        n.lift = ATTACK_DB_PER_S / self.sr;
    }

    /// A new notch in `slot` at its first depth.
    fn place(&mut self, slot: usize, freq: f32, max_depth: f32) {
        let first = first_depth(max_depth);
        self.notches[slot].place(freq, first, self.width_oct, self.sr);
        self.keep[slot] = first;
    }

    /// Lifts dynamic notches, those whose howl is longest gone first, until at most `count`
    /// hold. They glide out as fast as a notch comes in: a glide, not a jump.
    fn fit_count(&mut self, count: usize) {
        loop {
            let holding = (0..DYNAMIC).filter(|&j| !self.notches[j].is_free() && self.keep[j] > 0.0 && self.trial[j].0 == 0);
            if holding.clone().count() <= count {
                return;
            }
            let Some(j) = holding.max_by(|&a, &b| self.notches[a].idle_s.total_cmp(&self.notches[b].idle_s)) else { return };
            self.glide_out(j);
        }
    }

    /// Dynamic notch `j` on trial for the held tone `h` (`TRIAL_HOPS`), beside the count: as deep
    /// as allowed at once, since a howl a limiter holds may be well over unity, and only a cut
    /// deeper than its excess lowers it (and proves it one).
    fn start_trial(&mut self, j: usize, h: &Howl, max_depth: f32) {
        self.keep[j] = max_depth;
        self.notches[j].target = max_depth;
        self.notches[j].idle_s = 0.0;
        self.trial[j] = (TRIAL_HOPS, h.level_db);
    }

    /// A growth's new notch on `j` goes on probation (`JUDGE_HOPS`): the detector watches how far
    /// its tone falls from now on, and the urge this howl gives the canceller is remembered.
    fn on_probation(&mut self, j: usize, h: &Howl) {
        self.probation[j] = (0, h.slope_db_s);
        self.probation_heard[j] = self.heard.wrapping_add(1);
        self.detector.watch(h.freq);
    }

    /// Dynamic notch `j` no longer holds: it glides out as fast as a notch comes in.
    fn glide_out(&mut self, j: usize) {
        self.keep[j] = 0.0;
        self.convicted[j] = false;
        self.probation[j] = (0, 0.0);
        let n = &mut self.notches[j];
        n.target = 0.0;
        n.lift = ATTACK_DB_PER_S / self.sr;
    }
}

/// Whether notch `n` is placed and `freq` lies within `half` an octave of its centre.
fn covers(n: &Notch, freq: f32, half: f32) -> bool {
    !n.is_free() && (freq / n.freq).log2().abs() <= half
}

/// A new notch's first depth (dB) under a most allowed of `max_depth`.
fn first_depth(max_depth: f32) -> f32 {
    (max_depth * FIRST_SHARE).max(STEP_DB.min(max_depth))
}

super::block_stage_impl!(FeedbackSuppressor, FeedbackSettings);
