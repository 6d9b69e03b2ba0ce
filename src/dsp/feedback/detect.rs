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
//! A peak is a howl when it is narrow, lone, steady in frequency and has grown over `FRAMES` to
//! `GROW_FRAMES` frames on a line at least as steep as the sensitivity asks; or, the howl having
//! already saturated (a limiter holds it), when it has stayed a lone, narrow tone louder than
//! `SATURATED_DB`, steadier than any voice or instrument, for `LONG_FRAMES` frames (a pure test
//! tone that loud and that steady is taken for one too).

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use std::sync::Arc;

use crate::dsp::fastmath;

/// Peaks followed at once, and peaks taken from a frame (the loudest that qualify).
pub const TRACKS: usize = 16;
pub const PEAKS: usize = 10;
/// Frames a howl must have grown through (with a hop of a quarter window: about 32 ms of growth
/// at 48 kHz, on spectra 43 ms long).
pub const FRAMES: usize = 4;
/// Frames a saturated, steady, lone tone must have held.
pub const LONG_FRAMES: usize = 16;
/// The longest stretch a growth is looked for over (about 170 ms at 48 kHz).
pub const GROW_FRAMES: usize = 12;
/// The least a howl must have risen over the stretch (dB).
pub const RISE_DB: f32 = 3.0;
/// How far under the frame's loudest bin a howl may still be (dB): quieter peaks are left alone.
pub const RELATIVE_DB: f32 = 25.0;
/// The least level (dB re full scale) of a steady lone tone taken for a howl a limiter holds.
pub const SATURATED_DB: f32 = -10.0;
/// Levels kept per track.
const HIST: usize = LONG_FRAMES;
/// A peak's least height over its neighbours (dB).
pub const PNPR_DB: f32 = 10.0;
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
}

#[derive(Debug, Clone, Copy, Default)]
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
    matched: bool,
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

pub struct Detector {
    sr: f32,
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
        self.hop = n / 2;
        self.ring = vec![0.0; n];
        self.window = (0..n).map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / n as f32).cos()).collect();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
        self.frame = fft.make_input_vec();
        self.spectrum = fft.make_output_vec();
        self.scratch = fft.make_scratch_vec();
        self.fft = Some(fft);
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

    /// Whether bin k is a local maximum.
    fn is_max(&self, k: usize) -> bool {
        k >= 1 && k + 1 < self.pow.len() && self.pow[k] > self.pow[k - 1] && self.pow[k] >= self.pow[k + 1]
    }

    /// A local maximum within a bin of `freq` with at least `power_min`, in tune to `tol` Hz:
    /// its level, or None.
    fn partial_near(&self, freq: f32, power_min: f32, tol: f32) -> Option<f32> {
        let k = (freq / self.bin_hz()).round() as usize;
        for kk in k.saturating_sub(1)..=k + 1 {
            if kk >= 2 && kk + 2 < self.pow.len() && self.pow[kk] >= power_min && self.is_max(kk) {
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
                let nb = m5[i].max(m4[i]).max(m3[i]).max(p3[i]).max(p4[i]).max(p5[i]);
                flags[i] = ((x >= floor) & (x > m1[i]) & (x >= p1[i]) & (x >= nb * pnpr_ratio)) as u8;
            }
        }
        for k in lo..hi {
            if self.peak_flags[k - lo] != 0 {
                let mut neighbours = 0.0f32;
                for m in 3..=5 {
                    neighbours = neighbours.max(self.pow[k - m]).max(self.pow[k + m]);
                }
                let pnpr = self.db(k) - self.power_db(neighbours);
                let (freq, level) = self.refine(k);
                let peak = Peak { freq, level, pnpr, harmonic: false };
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
            // series is not looked for.)
            if p.level >= self.top_db - RELATIVE_DB {
                self.peaks[i].harmonic = self.in_series(p.freq, p.level);
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
    /// rest, ends tracks missed twice.
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
                if t.missed > 1 {
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
        for t in self.tracks.iter_mut() {
            if !t.active || !t.matched || found >= out.len() {
                continue;
            }
            let mut howl = None;
            // Growth, over the shortest stretch of the last frames (at least FRAMES, at most
            // GROW_FRAMES) that shows it: a fast howl in a few frames, a slow one over more.
            let loud_enough = t.level[t.head] >= self.top_db - RELATIVE_DB;
            let mut w = FRAMES;
            while howl.is_none() && loud_enough && w <= t.count.min(GROW_FRAMES) {
                if let Some(slope) = growth(t, w, bin, frame_s) {
                    if slope >= s.min_slope_db_s {
                        howl = Some(Howl { freq: t.latest_freq(), level_db: t.level[t.head], slope_db_s: slope });
                    }
                }
                w += 1;
            }
            if howl.is_none() && t.count >= LONG_FRAMES {
                let never_harmonic = t.harmonic.iter().all(|&h| !h);
                let (flo, fhi) = span_all(&t.freq);
                let (llo, _) = span_all(&t.level);
                let (plo, _) = span_all(&t.pnpr);
                if never_harmonic && fhi - flo <= 0.05 * bin && llo >= SATURATED_DB && plo >= 30.0 {
                    howl = Some(Howl { freq: t.latest_freq(), level_db: t.level[t.head], slope_db_s: 0.0 });
                }
            }
            if let Some(h) = howl {
                out[found] = h;
                found += 1;
                // Start counting afresh: if it goes on growing it is found again (and cut deeper).
                t.count = 0;
            }
        }
        found
    }
}

/// The track's growth over its last `w` frames, when it is a howl's: lone (a partial of a
/// series in at most a quarter of them), steady in frequency (within a quarter of a bin), rising
/// by `RISE_DB` or more, and on a line.
/// Returns the slope of its least-squares line (dB per second).
fn growth(t: &Track, w: usize, bin: f32, frame_s: f32) -> Option<f32> {
    let harmonic = (0..w).filter(|&b| t.harmonic[(t.head + HIST - b) % HIST]).count();
    if 4 * harmonic > w {
        return None;
    }
    let (flo, fhi) = (0..w).map(|b| t.at(&t.freq, b)).fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if fhi - flo > 0.25 * bin {
        return None;
    }
    let level = |x: usize| t.at(&t.level, w - 1 - x);
    if level(w - 1) - level(0) < RISE_DB {
        return None;
    }
    // On a line: a growing exponential's windowed level rises by the same step every frame
    // (shifting an exponential only scales it), so every step lies within half to twice the
    // mean step. An onset levelling off, a level stepping up, a window sliding over an attack
    // do not.
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
    Some(sxy / sxx / frame_s)
}

fn span_all(a: &[f32; HIST]) -> (f32, f32) {
    a.iter().fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}
