//! The howl detector: short-time spectra of the suppressor's input, the peaks in them followed
//! from frame to frame, and the features that tell a building howl from music.
//!
//! Features (after van Waterschoot & Moonen, "Fifty years of acoustic feedback control", 2011):
//! - **peak-to-neighbour power ratio** (PNPR): a howl is one sinusoid, far above the bins three to
//!   five away; speech harmonics close together and noise are not;
//! - **peak-to-harmonic power ratio** (PHPR), taken both ways: a howl belongs to no harmonic
//!   series (`in_series`: two more members among f/k … 7·f/k, in tune and within 15 dB of it);
//!   sung and played notes are harmonic series, a howl is a lone tone;
//! - **interframe peak persistence** with the frequency's stability: a howl stays on its
//!   frequency to a fraction of a bin; vibrato, a sweep or a glide move;
//! - **magnitude slope**: a howl grows steadily (its level in dB rises on a straight line, at a
//!   rate set by the loop's excess gain and delay), where a note's onset rises and stops.
//!
//! A peak is a howl when it is narrow, lone, steady in frequency and has grown on a line at least
//! as steep as the sensitivity asks, either
//! - fast: by `FAST_RISE_DB` or more over `FAST_FRAMES` consecutive analyses (27 to 85 ms at
//!   48 kHz), without slowing down, and rising in a window a quarter as long too: a howl's level in dB rises on a straight line, or bends upward
//!   while it comes out of the source, where a note's onset sliding into the window, an attack
//!   or a swell bends downward as it levels off; or
//! - steadily: over `FRAMES` to `GROW_FRAMES` levels half a window apart (64 to 235 ms), the
//!   slow howl of a loop barely over unity;
//!
//! and, on a tone that stood still on its frequency or was a lone tone all along, past the
//! loudest it was before (`NEW_HIGH_DB`): a tremolo's rise climbs back only to where it was; and
//! not on a tone `pardon`ed (the suppressor found its growth unmoved by its notch: a crescendo)
//! while it goes on making new highs;
//!
//! or, the howl having already saturated (a limiter holds it), when it has stayed a lone, narrow
//! tone louder than `SATURATED_DB`, steadier than any voice or instrument and not dying away, for
//! `LONG_FRAMES` levels. Such a tone is `held`: a loud, steady flute, whistle or test tone looks
//! the same, so its notch is on trial (the suppressor keeps it only if the tone falls once the
//! notch cuts, as a howl does when its loop is broken; `acquit` clears a tone that did not).
//!
//! A howl is notched within `RELATIVE_DB` of the frame's loudest bin. One that passes while
//! still quieter (within `SIGHT_DB`), growing at `SIGHT_SLOPE_DB_S` or more, is reported once as
//! in sight: not notched (it is not heard over the source yet), but it urges the canceller.

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use std::sync::Arc;

use crate::dsp::fastmath;

/// Peaks followed at once, and peaks taken from a frame (the loudest that qualify).
pub const TRACKS: usize = 24;
pub const PEAKS: usize = 20;
/// Analyses per window length: one every eighth of a window (5.3 ms at 48 kHz).
pub const HOPS_PER_WINDOW: usize = 8;
/// The steady test's levels are half a window apart (21 ms at 48 kHz): this many analyses.
pub const STRIDE: usize = HOPS_PER_WINDOW / 2;
/// Levels (`STRIDE` analyses apart) a howl must have grown through in the steady test: 64 ms of
/// growth at 48 kHz, longer than a window, so a note's onset sliding in cannot pass for one.
pub const FRAMES: usize = 4;
/// Levels (`STRIDE` apart) a saturated, steady, lone tone must have held.
pub const LONG_FRAMES: usize = 16;
/// The longest stretch the steady test looks over (12 levels: 235 ms at 48 kHz).
pub const GROW_FRAMES: usize = 12;
/// The least a howl must have risen over the stretch in the steady test (dB).
pub const RISE_DB: f32 = 3.0;
/// The fast test: consecutive analyses looked over (6 to 16: 27 to 85 ms at 48 kHz) ...
pub const FAST_FRAMES: std::ops::RangeInclusive<usize> = 6..=16;
/// ... the least rise over them (dB) ...
pub const FAST_RISE_DB: f32 = 3.0;
/// ... and the least the second half's mean step may be of the first half's (no slowing down) ...
pub const FAST_BEND: f32 = 0.85;
/// ... and the least share of the window's last rise (over a quarter window) that a window a
/// quarter as long must show at the same frequency over the same time. An exponential rises at
/// the same rate in dB whatever the window; a tone that stepped up has filled the short window
/// while the long one still slides over the step.
pub const FAST_SHORT_SHARE: f32 = 0.5;
/// A tone that stood within this share of a bin on its frequency before a growth (over the
/// track's history), or was a lone tone all along, grows only past the loudest it was then, by
/// `NEW_HIGH_DB`.
pub const STILL_BINS: f32 = 0.1;
pub const NEW_HIGH_DB: f32 = 1.0;
/// The steady test's: the second half's mean step at least half the first half's.
pub const STEADY_BEND: f32 = 0.5;
/// How far under the frame's loudest bin a howl may still be to be notched (dB): a quieter one
/// is not heard over the source yet, and a notch on it would only cost the source.
pub const RELATIVE_DB: f32 = 25.0;
/// How far under the frame's loudest bin a fast-growing howl is still looked for (dB): one
/// this quiet, growing at `SIGHT_SLOPE_DB_S` or more, is reported as in sight (`Howl::notch`
/// false), which urges the canceller to learn while the howl is still far under the source.
/// Held at `RELATIVE_DB`, the canceller waited for the howl to come within 25 dB of the loudest
/// bin: in a step 3 dB over the small room's MSG the vowel's howl grew for 150 ms, steadily at
/// 190 dB/s, 30 to 40 dB under a formant, and went 6.8 dB over the source before it was found.
pub const SIGHT_DB: f32 = 60.0;
/// The least growth of a howl in sight (dB/s). A loop Δ dB over its edge with a round trip of D
/// grows at about Δ/D: 100 dB/s is 1 dB over at 10 ms, 2 dB at 20 ms, a loop the canceller must
/// learn now. A slower one, a loop creeping over its edge, waits until it is loud enough to
/// notch, and the canceller learns then, with the feedback clearly over the source: urged by
/// any growth 60 dB under the loudest bin, it learnt too early in a rising loop (biased by the
/// source: one vowel row of the bench's 48 fell from 18.7 to 3.9 dB ASG); at 60 dB/s as well.
pub const SIGHT_SLOPE_DB_S: f32 = 100.0;
/// A tone pardoned its growth (`Detector::pardon`) is pardoned while it makes new highs by this
/// much (dB), until it has made none for this many analyses (85 ms at 48 kHz), and for at most
/// `PARDON_MAX` analyses (1 s): a howl wrongly pardoned grows steadily too, and is found again.
pub const PARDON_RISE_DB: f32 = 0.5;
pub const PARDON_STILL: u16 = 16;
pub const PARDON_MAX: u16 = 192;
/// The least level (dB re full scale) of a steady lone tone taken for a howl a limiter holds.
pub const SATURATED_DB: f32 = -10.0;
/// The most such a tone may have fallen over the `LONG_FRAMES` levels (dB): a howl a limiter
/// holds does not die away, a struck bar or a plucked string does.
pub const SATURATED_FALL_DB: f32 = 2.0;
/// Analyses kept per track.
const HIST: usize = LONG_FRAMES * STRIDE;
/// A peak's least height over its neighbours (dB).
pub const PNPR_DB: f32 = 6.0;
/// A harmonic series' other members must be narrow peaks too, this far over their neighbours
/// (dB): in noise, or among the many peaks of a loop howling at several frequencies, a mere
/// local maximum in tune with a howl is no partial of anything.
pub const MEMBER_PNPR_DB: f32 = 6.0;
/// The lowest level a howl is looked for at (dB re a full-scale sine).
pub const FLOOR_DB: f32 = -75.0;
/// The frequency range searched.
pub const LOW_HZ: f32 = 60.0;
pub const HIGH_HZ: f32 = 18_000.0;

/// A detected howl: its frequency (Hz) and its level (dB re full scale).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Howl {
    pub freq: f32,
    pub level_db: f32,
    /// Its growth over the frames looked at (dB per second; 0 for a saturated tone).
    pub slope_db_s: f32,
    /// Loud enough to notch (within `RELATIVE_DB` of the frame's loudest bin); else only in
    /// sight (within `SIGHT_DB`).
    pub notch: bool,
    /// Found already saturated (a steady lone tone, not growing): its notch is on trial.
    pub held: bool,
}

/// A tone as the last analysis had it (`Detector::tone`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tone {
    /// Found, at this level (dB re full scale).
    Heard(f32),
    /// Not found this time, but its track goes on (it may be found again).
    Missed,
    /// Its track has ended (missed for more than `STRIDE` analyses in a row), or there was none.
    Gone,
}

#[derive(Debug, Clone, Copy)]
struct Track {
    active: bool,
    /// Frames matched in a row (capped), frames missed in a row.
    count: usize,
    missed: u8,
    /// Where the newest of the histories is.
    head: usize,
    freq: [f32; HIST],
    level: [f32; HIST],
    pnpr: [f32; HIST],
    /// Whether the peak looked like a partial of a harmonic series in that frame.
    harmonic: [bool; HIST],
    /// Whether the peak was looked at for a series in that frame (loud enough) and was in none.
    lone: [bool; HIST],
    matched: bool,
    /// Reported while still too quiet to notch (once per track).
    sighted: bool,
    /// Found loud enough to notch (a howl's track from then on).
    notched: bool,
    /// Growing unmoved by its notch (`Detector::pardon`): no growth is a howl's while the tone
    /// keeps making new highs; the loudest since, and analyses since the last new high.
    pardoned: bool,
    pardon_top: f32,
    pardon_still: u16,
    pardon_age: u16,
    /// Watched since its growth's notch came in (`Detector::watch`): the loudest it was since,
    /// and the most it fell under that.
    watched: bool,
    watch_top: f32,
    watch_dip: f32,
    /// Found held, notched, and did not fall (`Detector::acquit`): the source's own tone, never
    /// again taken for a held howl while the track lasts.
    acquitted: bool,
}

impl Default for Track {
    fn default() -> Self {
        Self {
            active: false,
            count: 0,
            missed: 0,
            head: 0,
            freq: [0.0; HIST],
            level: [0.0; HIST],
            pnpr: [0.0; HIST],
            harmonic: [false; HIST],
            lone: [false; HIST],
            matched: false,
            sighted: false,
            notched: false,
            pardoned: false,
            pardon_top: 0.0,
            pardon_still: 0,
            pardon_age: 0,
            watched: false,
            watch_top: 0.0,
            watch_dip: 0.0,
            acquitted: false,
        }
    }
}

impl Track {
    fn start(&mut self, p: &Peak) {
        *self = Track { active: true, ..Track::default() };
        self.push(p);
    }
    fn push(&mut self, p: &Peak) {
        self.head = (self.head + 1) % HIST;
        self.freq[self.head] = p.freq;
        self.level[self.head] = p.level;
        self.pnpr[self.head] = p.pnpr;
        self.harmonic[self.head] = p.harmonic;
        self.lone[self.head] = p.lone;
        self.count = (self.count + 1).min(HIST);
        self.missed = 0;
        self.matched = true;
    }
    /// The value `back` frames before the newest.
    fn at(&self, a: &[f32; HIST], back: usize) -> f32 {
        a[(self.head + HIST - back) % HIST]
    }
    fn latest_freq(&self) -> f32 {
        self.freq[self.head]
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Peak {
    freq: f32,
    level: f32,
    pnpr: f32,
    harmonic: bool,
    lone: bool,
}

/// What the detector is asked to do for a frame.
#[derive(Debug, Clone, Copy)]
pub struct DetectSettings {
    /// The least growth (dB per second) that makes a steady lone tone a howl.
    pub min_slope_db_s: f32,
}

/// Sensitivity 0..1 → the growth a howl must show: 60 dB/s at 0 (only fast howls) to 6 dB/s
/// at 1 (a loop barely over unity), 19 dB/s at the default ½, on a log scale.
pub fn min_slope_for(sensitivity: f32) -> f32 {
    60.0 * 0.1f32.powf(sensitivity.clamp(0.0, 1.0))
}

/// The short window of the fast test's check: its FFT, its buffers and its Hann window.
#[derive(Clone, Default)]
struct Short {
    fft: Option<Arc<dyn RealToComplex<f32>>>,
    frame: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    window: Vec<f32>,
}

impl Short {
    fn prepare(&mut self, len: usize) {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(len);
        self.frame = fft.make_input_vec();
        self.spectrum = fft.make_output_vec();
        self.scratch = fft.make_scratch_vec();
        // (In f64: every platform's build gets the same bits.)
        self.window = (0..len).map(|i| (0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / len as f64).cos()) as f32).collect();
        self.fft = Some(fft);
    }

    /// The power at `freq` (the most of the three nearest bins) of the `len` samples of the
    /// ring (oldest at `pos`) that end `back` samples before its newest.
    fn power(&mut self, ring: &[f32], pos: usize, back: usize, freq: f32, sr: f32) -> f32 {
        let Some(fft) = self.fft.as_ref() else { return 0.0 };
        let (n, len) = (ring.len(), self.frame.len());
        let start = pos + n - back - len;
        for (i, (f, &w)) in self.frame.iter_mut().zip(&self.window).enumerate() {
            *f = ring[(start + i) & (n - 1)] * w;
        }
        if fft.process_with_scratch(&mut self.frame, &mut self.spectrum, &mut self.scratch).is_err() {
            return 0.0;
        }
        let k = ((freq * len as f32 / sr).round() as usize).clamp(1, self.spectrum.len() - 2);
        self.spectrum[k - 1..=k + 1].iter().map(|c| c.re * c.re + c.im * c.im).fold(0.0f32, f32::max)
    }

    /// How far (dB) the short window's power at `freq` rose over its own length, to now.
    fn rise_db(&mut self, ring: &[f32], pos: usize, freq: f32, sr: f32) -> f32 {
        let len = self.frame.len();
        let (now, then) = (self.power(ring, pos, 0, freq, sr), self.power(ring, pos, len, freq, sr));
        // (The detector's own log: the same bits on every platform.)
        (fastmath::log2(now + 1e-30) - fastmath::log2(then + 1e-30)) * (10.0 * std::f32::consts::LOG10_2)
    }
}

pub struct Detector {
    sr: f32,
    short: Short,
    n: usize,
    hop: usize,
    ring: Vec<f32>,
    pos: usize,
    since_hop: usize,
    window: Vec<f32>,
    fft: Option<Arc<dyn RealToComplex<f32>>>,
    frame: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    /// Each bin's power in the last frame, and whether it is a narrow peak.
    pow: Vec<f32>,
    peak_flags: Vec<u8>,
    /// dB offset so that a full-scale sine's peak reads 0 dB.
    norm_db: f32,
    tracks: [Track; TRACKS],
    peaks: [Peak; PEAKS],
    /// The frame's loudest bin in the searched range (dB).
    top_db: f32,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector").field("sr", &self.sr).field("n", &self.n).field("hop", &self.hop).finish_non_exhaustive()
    }
}

impl Clone for Detector {
    fn clone(&self) -> Self {
        Self {
            sr: self.sr,
            n: self.n,
            hop: self.hop,
            short: self.short.clone(),
            ring: self.ring.clone(),
            pos: self.pos,
            since_hop: self.since_hop,
            window: self.window.clone(),
            fft: self.fft.clone(),
            frame: self.frame.clone(),
            spectrum: self.spectrum.clone(),
            scratch: self.scratch.clone(),
            pow: self.pow.clone(),
            peak_flags: self.peak_flags.clone(),
            norm_db: self.norm_db,
            tracks: self.tracks,
            peaks: self.peaks,
            top_db: self.top_db,
        }
    }
}

impl Default for Detector {
    fn default() -> Self {
        Self {
            sr: 0.0,
            short: Short::default(),
            n: 0,
            hop: 1,
            ring: Vec::new(),
            pos: 0,
            since_hop: 0,
            window: Vec::new(),
            fft: None,
            frame: Vec::new(),
            spectrum: Vec::new(),
            scratch: Vec::new(),
            pow: Vec::new(),
            peak_flags: Vec::new(),
            norm_db: 0.0,
            tracks: [Track::default(); TRACKS],
            peaks: [Peak::default(); PEAKS],
            top_db: f32::MIN,
        }
    }
}

impl Detector {
    /// The analysis size at a rate: about 43 ms (2048 samples at 44.1 and 48 kHz).
    pub fn size_for(sr: f32) -> usize {
        ((sr * 0.04) as usize).next_power_of_two().max(256)
    }

    /// Allocates everything for this rate.
    pub fn prepare(&mut self, sr: f32) {
        let n = Self::size_for(sr);
        self.sr = sr;
        self.n = n;
        self.hop = n / HOPS_PER_WINDOW;
        self.ring = vec![0.0; n];
        self.window = (0..n).map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / n as f32).cos()).collect();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
        self.frame = fft.make_input_vec();
        self.spectrum = fft.make_output_vec();
        self.scratch = fft.make_scratch_vec();
        self.fft = Some(fft);
        self.short.prepare(n / 4);
        self.pow = vec![0.0; n / 2 + 1];
        self.peak_flags = vec![0; n / 2 + 1];
        self.norm_db = 20.0 * (n as f32 / 4.0).log10();
        self.reset();
    }

    pub fn reset(&mut self) {
        self.ring.fill(0.0);
        self.pos = 0;
        self.since_hop = 0;
        self.tracks = [Track::default(); TRACKS];
    }

    pub fn hop(&self) -> usize {
        self.hop
    }

    /// Samples until the next analysis.
    pub fn until_hop(&self) -> usize {
        self.hop - self.since_hop
    }

    /// The width of a bin (Hz).
    pub fn bin_hz(&self) -> f32 {
        self.sr / self.n as f32
    }

    /// The track on `freq` (within half a bin), whether or not the last analysis found it.
    fn track_on(&mut self, freq: f32) -> Option<&mut Track> {
        let half = 0.5 * self.bin_hz();
        self.tracks.iter_mut().find(|t| t.active && (t.latest_freq() - freq).abs() <= half)
    }

    /// What the last analysis made of the tone on `freq`.
    pub fn tone(&mut self, freq: f32) -> Tone {
        match self.track_on(freq) {
            Some(t) if t.matched => Tone::Heard(t.level[t.head]),
            Some(_) => Tone::Missed,
            None => Tone::Gone,
        }
    }

    /// The tone on `freq` was found held but is the source's own (its notch did not lower it):
    /// not a held howl again while it lasts (a growth is still one).
    pub fn acquit(&mut self, freq: f32) {
        if let Some(t) = self.track_on(freq) {
            t.acquitted = true;
        }
    }

    /// The tone on `freq` grew on unmoved by its notch (the source's crescendo): its growth is
    /// not a howl's until it has made no new high (by `PARDON_RISE_DB`) for `PARDON_STILL`
    /// analyses.
    pub fn pardon(&mut self, freq: f32) {
        if let Some(t) = self.track_on(freq) {
            t.pardoned = true;
            t.pardon_top = t.level[t.head];
            t.pardon_still = 0;
            t.pardon_age = 0;
        }
    }

    /// Starts following how far the tone on `freq` falls under the loudest it is from now on
    /// (`dip`): a howl's notch has just come in.
    pub fn watch(&mut self, freq: f32) {
        if let Some(t) = self.track_on(freq) {
            t.watched = true;
            t.watch_top = t.level[t.head];
            t.watch_dip = 0.0;
        }
    }

    /// The most the tone on `freq` fell under its loudest since `watch` (dB); infinite when its
    /// track has ended or was never watched (it may have fallen out of sight).
    pub fn dip(&mut self, freq: f32) -> f32 {
        match self.track_on(freq) {
            Some(t) if t.watched => t.watch_dip,
            _ => f32::INFINITY,
        }
    }

    /// Takes samples (at most `until_hop`); returns true when a frame is due.
    #[inline]
    pub fn push(&mut self, x: &[f32]) -> bool {
        let n = self.n;
        // (x is at most a hop long: at most two stretches of the ring.)
        let first = x.len().min(n - self.pos);
        self.ring[self.pos..self.pos + first].copy_from_slice(&x[..first]);
        self.ring[..x.len() - first].copy_from_slice(&x[first..]);
        self.pos = (self.pos + x.len()) & (n - 1);
        self.since_hop += x.len();
        if self.since_hop >= self.hop {
            self.since_hop = 0;
            true
        } else {
            false
        }
    }

    /// Analyses the newest window and writes the howls found into `out` (returns how many).
    pub fn analyse(&mut self, s: &DetectSettings, out: &mut [Howl]) -> usize {
        let Some(fft) = self.fft.as_ref() else { return 0 };
        // Oldest first: the ring from `pos` on, then from its start.
        let tail = self.n - self.pos;
        for ((f, &r), &w) in self.frame[..tail].iter_mut().zip(&self.ring[self.pos..]).zip(&self.window[..tail]) {
            *f = r * w;
        }
        for ((f, &r), &w) in self.frame[tail..].iter_mut().zip(&self.ring[..self.pos]).zip(&self.window[tail..]) {
            *f = r * w;
        }
        if fft.process_with_scratch(&mut self.frame, &mut self.spectrum, &mut self.scratch).is_err() {
            return 0;
        }
        // Powers only: peaks, neighbours and the floor compare powers; levels in dB are worked
        // out for the few bins that need one.
        for (p, c) in self.pow.iter_mut().zip(&self.spectrum) {
            *p = c.re * c.re + c.im * c.im;
        }
        let found = self.find_peaks();
        self.follow(found);
        self.decide(s, out)
    }

    /// Bin k's level in dB re a full-scale sine.
    #[inline]
    fn db(&self, k: usize) -> f32 {
        self.power_db(self.pow[k])
    }

    #[inline]
    fn power_db(&self, p: f32) -> f32 {
        fastmath::log2(p + 1e-30) * (10.0 * std::f32::consts::LOG10_2) - self.norm_db
    }

    /// The peak at bin k refined by a parabola through the dB values: (frequency, level).
    fn refine(&self, k: usize) -> (f32, f32) {
        let (a, b, c) = (self.db(k - 1), self.db(k), self.db(k + 1));
        let den = a - 2.0 * b + c;
        let d = if den < 0.0 { (0.5 * (a - c) / den).clamp(-0.5, 0.5) } else { 0.0 };
        ((k as f32 + d) * self.bin_hz(), b - 0.25 * (a - c) * d)
    }

    /// The neighbours a peak at k stands over: the loudest of the bins 3 to 5 away on either
    /// side (k must be 5 bins in).
    fn neighbours(&self, k: usize) -> f32 {
        let side = |sign: isize| (3..=5).fold(0.0f32, |m, d| m.max(self.pow[(k as isize + sign * d) as usize]));
        side(-1).max(side(1))
    }

    /// Whether bin k is a local maximum.
    fn is_max(&self, k: usize) -> bool {
        k >= 1 && k + 1 < self.pow.len() && self.pow[k] > self.pow[k - 1] && self.pow[k] >= self.pow[k + 1]
    }

    /// A narrow local maximum (`MEMBER_PNPR_DB` over the bins 3 to 5 away) within a bin of
    /// `freq` with at least `power_min`, in tune to `tol` Hz: its level, or None.
    fn partial_near(&self, freq: f32, power_min: f32, tol: f32) -> Option<f32> {
        let k = (freq / self.bin_hz()).round() as usize;
        let ratio = 10f32.powf(MEMBER_PNPR_DB / 10.0);
        for kk in k.saturating_sub(1)..=k + 1 {
            if kk >= 5
                && kk + 5 < self.pow.len()
                && self.pow[kk] >= power_min
                && self.is_max(kk)
                && self.pow[kk] >= ratio * self.neighbours(kk)
            {
                let (f, l) = self.refine(kk);
                if (f - freq).abs() <= tol {
                    return Some(l);
                }
            }
        }
        None
    }

    /// The frame's narrow peaks, loudest first, with their harmonic check.
    fn find_peaks(&mut self) -> usize {
        let bin = self.bin_hz();
        let lo = ((LOW_HZ / bin) as usize).max(6);
        let hi = ((HIGH_HZ.min(0.45 * self.sr) / bin) as usize).min(self.pow.len() - 7);
        let mut count = 0;
        self.top_db = self.power_db(self.pow[lo..hi].iter().fold(0.0f32, |m, &v| m.max(v)));
        let floor = 10f32.powf((FLOOR_DB + self.norm_db) / 10.0);
        let pnpr_ratio = 10f32.powf(PNPR_DB / 10.0);
        // Which bins are narrow peaks, in one branch-free pass over the spectrum (on SIMD lanes:
        // a bin is a local maximum, above the floor and `PNPR_DB` over the bins 3 to 5 away);
        // then only those few are looked at.
        let len = hi - lo;
        {
            let p = &self.pow;
            let at = |o: usize| &p[lo + o - 5..lo + o - 5 + len];
            let (m5, m4, m3, m1, c0, p1, p3, p4, p5) = (at(0), at(1), at(2), at(4), at(5), at(6), at(8), at(9), at(10));
            let flags = &mut self.peak_flags[..len];
            for i in 0..len {
                let x = c0[i];
                let nb = m5[i].max(m4[i]).max(m3[i]).max(p3[i].max(p4[i]).max(p5[i]));
                flags[i] = ((x >= floor) & (x > m1[i]) & (x >= p1[i]) & (x >= nb * pnpr_ratio)) as u8;
            }
        }
        for k in lo..hi {
            if self.peak_flags[k - lo] != 0 {
                let pnpr = self.db(k) - self.power_db(self.neighbours(k));
                let (freq, level) = self.refine(k);
                let peak = Peak { freq, level, pnpr, harmonic: false, lone: false };
                // Keep the loudest PEAKS.
                if count < PEAKS {
                    self.peaks[count] = peak;
                    count += 1;
                } else {
                    let (weakest, _) =
                        self.peaks.iter().enumerate().fold((0, f32::MAX), |m, (i, p)| if p.level < m.1 { (i, p.level) } else { m });
                    if self.peaks[weakest].level < level {
                        self.peaks[weakest] = peak;
                    }
                }
            }
        }
        for i in 0..count {
            let p = self.peaks[i];
            // (A peak too far under the frame's loudest cannot be taken for a howl now: its
            // series is not looked for. Nor for a howl only in sight: looked for down to
            // `SIGHT_DB`, the flags of a track's quiet frames held its growth back once it was
            // loud, and the club's vowel fell from 18.2 to 3.4 dB of ASG with the canceller.)
            if p.level >= self.top_db - RELATIVE_DB {
                self.peaks[i].harmonic = self.in_series(p.freq, p.level);
                self.peaks[i].lone = !self.peaks[i].harmonic;
            }
        }
        count
    }

    /// Whether a peak at `freq` is a partial of a harmonic series: for some k = 1…6 the series on
    /// f0 = freq / k has two more members (among f0 … 7·f0) that are peaks in tune with it (to
    /// 0.4 % or a fifth of a bin) and no more than 15 dB under it (a lone coincidence with one
    /// partial of a voice does not count).
    fn in_series(&self, freq: f32, level: f32) -> bool {
        let bin = self.bin_hz();
        let power_min = 10f32.powf((level - 15.0 + self.norm_db) / 10.0);
        for k in 1..=6 {
            let f0 = freq / k as f32;
            if f0 < LOW_HZ {
                break;
            }
            let mut members = 0;
            for j in 1..=7 {
                if j == k {
                    continue;
                }
                let fj = f0 * j as f32;
                if fj >= 0.45 * self.sr {
                    break;
                }
                let tol = (0.004 * fj).max(0.2 * bin);
                if self.partial_near(fj, power_min, tol).is_some() {
                    members += 1;
                    if members >= 2 {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// Matches the frame's peaks to the tracks (nearest within half a bin), starts tracks for the
    /// rest, ends tracks missed for more than `STRIDE` analyses in a row.
    fn follow(&mut self, count: usize) {
        let bin = self.bin_hz();
        for t in self.tracks.iter_mut() {
            t.matched = false;
        }
        for i in 0..count {
            let p = self.peaks[i];
            let mut best: Option<usize> = None;
            let mut best_d = 0.5 * bin;
            for (j, t) in self.tracks.iter().enumerate() {
                if t.active && !t.matched {
                    let d = (t.latest_freq() - p.freq).abs();
                    if d <= best_d {
                        best_d = d;
                        best = Some(j);
                    }
                }
            }
            if let Some(j) = best {
                self.tracks[j].push(&p);
            } else if let Some(t) = self.tracks.iter_mut().find(|t| !t.active) {
                t.start(&p);
            } else {
                // Replace the quietest track that was not matched this frame.
                let mut quiet: Option<usize> = None;
                for (j, t) in self.tracks.iter().enumerate() {
                    if !t.matched && quiet.is_none_or(|q| t.level[t.head] < self.tracks[q].level[self.tracks[q].head]) {
                        quiet = Some(j);
                    }
                }
                if let Some(j) = quiet {
                    self.tracks[j].start(&p);
                }
            }
        }
        for t in self.tracks.iter_mut() {
            if t.active && !t.matched {
                t.missed += 1;
                t.count = 0;
                if t.missed as usize > STRIDE {
                    t.active = false;
                }
            }
        }
    }

    /// The tracks that are howls now.
    fn decide(&mut self, s: &DetectSettings, out: &mut [Howl]) -> usize {
        let bin = self.bin_hz();
        let frame_s = self.hop as f32 / self.sr;
        let mut found = 0;
        let short_hops = self.short.frame.len() / self.hop;
        let (sr, pos) = (self.sr, self.pos);
        let Self { tracks, short, ring, top_db, .. } = self;
        for t in tracks.iter_mut() {
            if !t.active || !t.matched || found >= out.len() {
                continue;
            }
            let mut howl = None;
            if t.watched {
                t.watch_top = t.watch_top.max(t.level[t.head]);
                t.watch_dip = t.watch_dip.max(t.watch_top - t.level[t.head]);
            }
            if t.pardoned {
                if t.level[t.head] > t.pardon_top + PARDON_RISE_DB {
                    t.pardon_top = t.level[t.head];
                    t.pardon_still = 0;
                } else {
                    t.pardon_still += 1;
                }
                t.pardon_age += 1;
                t.pardoned = t.pardon_still < PARDON_STILL && t.pardon_age < PARDON_MAX;
            }
            // Growth, over the shortest stretch that shows it: first the fast test over
            // consecutive analyses, then the steady one over levels `STRIDE` apart (at least
            // FRAMES, at most GROW_FRAMES): a fast howl in a few frames, a slow one over more.
            // A howl too quiet to notch is reported once, and its count kept, so that it is
            // notched as soon as it is loud enough.
            let loud_enough = t.level[t.head] >= *top_db - RELATIVE_DB;
            let in_sight = loud_enough || (!t.sighted && t.level[t.head] >= *top_db - SIGHT_DB);
            let tests = FAST_FRAMES.map(|w| (w, 1)).chain((FRAMES..=GROW_FRAMES).map(|w| (w, STRIDE)));
            for (w, stride) in tests {
                if howl.is_some() || !in_sight || t.pardoned || (w - 1) * stride + 1 > t.count {
                    continue;
                }
                if let Some(slope) = growth(t, w, stride, bin, frame_s) {
                    // The fast test's howl must rise in the short window too.
                    let short_ok = stride > 1 || {
                        let long = t.at(&t.level, 0) - t.at(&t.level, short_hops);
                        short.rise_db(ring, pos, t.latest_freq(), sr) >= FAST_SHORT_SHARE * long.max(0.0)
                    };
                    let least = if loud_enough { s.min_slope_db_s } else { s.min_slope_db_s.max(SIGHT_SLOPE_DB_S) };
                    if short_ok && slope >= least {
                        howl = Some(Howl {
                            freq: t.latest_freq(),
                            level_db: t.level[t.head],
                            slope_db_s: slope,
                            notch: loud_enough,
                            held: false,
                        });
                    }
                }
            }
            if howl.is_none() && t.count >= HIST && !t.acquitted {
                let never_harmonic = t.harmonic.iter().all(|&h| !h);
                let (flo, fhi) = span_all(&t.freq);
                let (llo, _) = span_all(&t.level);
                let (plo, _) = span_all(&t.pnpr);
                let fell = t.at(&t.level, HIST - 1) - t.level[t.head];
                if never_harmonic && fhi - flo <= 0.05 * bin && llo >= SATURATED_DB && plo >= 30.0 && fell <= SATURATED_FALL_DB {
                    let level_db = t.level[t.head];
                    howl = Some(Howl { freq: t.latest_freq(), level_db, slope_db_s: 0.0, notch: true, held: true });
                }
            }
            if let Some(h) = howl {
                out[found] = h;
                found += 1;
                if h.notch {
                    // Start counting afresh: if it goes on growing it is found again (and cut
                    // deeper).
                    t.count = 0;
                    t.notched = true;
                } else {
                    t.sighted = true;
                }
            }
        }
        found
    }
}

/// The track's growth over `w` levels `stride` analyses apart (the newest last), when it is a
/// howl's: lone (a partial of a series in at most a quarter of the analyses), steady in
/// frequency (within a quarter of a bin), rising by `RISE_DB` or more (`FAST_RISE_DB` and not
/// slowing down, for consecutive analyses), and on a line.
/// Returns the slope of its least-squares line (dB per second).
fn growth(t: &Track, w: usize, stride: usize, bin: f32, hop_s: f32) -> Option<f32> {
    let span = (w - 1) * stride + 1;
    let harmonic = (0..span).filter(|&b| t.harmonic[(t.head + HIST - b) % HIST]).count();
    if 4 * harmonic > span {
        return None;
    }
    let (flo, fhi) = (0..span).map(|b| t.at(&t.freq, b)).fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if fhi - flo > 0.25 * bin {
        return None;
    }
    let level = |x: usize| t.at(&t.level, (w - 1 - x) * stride);
    let fast = stride == 1;
    if level(w - 1) - level(0) < if fast { FAST_RISE_DB } else { RISE_DB } {
        return None;
    }
    // A tone that was as loud before the stretch is swinging, not growing, when it stood on this
    // very frequency then (within `STILL_BINS`), or was a lone tone all along (loud enough in
    // every analysis of its track to be looked at for a series, and in none) and never notched: a
    // flute's tremolo, with or without a vibrato, climbs back to where it was; a howl out of it
    // would climb past. (A howl found once and growing again under its notch is held to its past
    // only as a still tone, as before: it may have been loudest just before its notch cut.)
    // (A partial gliding with a singer's vibrato through the bin does not stand still and, quiet
    // or in a series, is not known to be lone: a howl growing on it is still found as before.
    // Holding every tone to its past held back the club's sung vowel, whose howl grows on the
    // vowel's fundamental, and the canceller's quiet howls in sight.)
    let back = span..t.count.min(HIST);
    let (lo, hi) = back.clone().map(|b| t.at(&t.freq, b)).fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let still = hi - lo <= STILL_BINS * bin && (hi - t.latest_freq()).abs() <= 0.25 * bin;
    let lone = !t.notched && (0..t.count.min(HIST)).all(|b| t.lone[(t.head + HIST - b) % HIST]);
    if !back.is_empty() && (still || lone) {
        let before = back.map(|b| t.at(&t.level, b)).fold(f32::MIN, f32::max);
        if level(w - 1) < before + NEW_HIGH_DB {
            return None;
        }
    }
    // Not slowing down: the second half's mean step against the first half's. A howl's level
    // rises on a line, or bends upward while it comes out of the source; an onset levelling
    // off, a level stepping up, a window sliding over an attack bend downward.
    let half = ((w - 1) / 2).max(1);
    let first = (level(half) - level(0)) / half as f32;
    let last = (level(w - 1) - level(w - 1 - half)) / half as f32;
    if last < if fast { FAST_BEND } else { STEADY_BEND } * first {
        return None;
    }
    // A growing exponential's windowed level rises by the same step from analysis to analysis
    // (shifting an exponential only scales it): every step within half to twice the mean step.
    let mean_step = (level(w - 1) - level(0)) / (w - 1) as f32;
    if (1..w).any(|x| {
        let step = level(x) - level(x - 1);
        step < 0.5 * mean_step || step > 2.0 * mean_step
    }) {
        return None;
    }
    let mean_x = (w as f32 - 1.0) * 0.5;
    let mean_y = (0..w).map(level).sum::<f32>() / w as f32;
    let (mut sxy, mut sxx) = (0.0f32, 0.0f32);
    for x in 0..w {
        sxy += (x as f32 - mean_x) * (level(x) - mean_y);
        sxx += (x as f32 - mean_x).powi(2);
    }
    let slope = sxy / sxx;
    Some(slope / (stride as f32 * hop_s))
}

fn span_all(a: &[f32; HIST]) -> (f32, f32) {
    a.iter().fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}
