//! A noise gate / downward expander: a detector on a band-limited copy of the input (its own
//! high- and low-pass), an open threshold and a lower close threshold (hysteresis), hold, an
//! attack ramp, a release in dB, a range (how far it closes: a gate at 90 dB, an expander at a
//! few dB), and an optional lookahead that delays the audio so the gate is open when an onset
//! arrives.
//!
//! Click-free by construction: whatever the attack and release, the gain may only move as far
//! per sample as keeps every channel's output step |g[n]·x[n] − g[n−1]·x[n−1]| within the input's
//! own step |x[n] − x[n−1]| (g = g[n−1] always qualifies, since gains are at most 1), so a fast
//! gate snaps at zero crossings and glides on the rest of the wave instead of stepping. Besides
//! that, the gain may always move 1 / (5 ms) per sample (a fade no ear hears as a click), so it
//! also opens and closes on a signal that hardly moves (a DC offset).

use super::delay_line::Lookahead;
use super::{fastmath, BLOCK, MAX_CH};

pub const MAX_LOOKAHEAD_MS: f32 = 5.0;
/// The detector's peak follower falls with this time constant (its rise is instant).
pub const DETECTOR_RELEASE_MS: f32 = 10.0;
/// The slowest the gain is ever allowed to move, whatever the signal: 1 per 5 ms.
pub const MIN_SLEW_MS: f32 = 5.0;
/// Below this the detector is exactly zero (−160 dBFS: far under any threshold).
const DETECTOR_FLOOR: f32 = 1e-8;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GateSettings {
    pub threshold_db: f32,
    /// How far below the open threshold the level must fall before it closes.
    pub hysteresis_db: f32,
    pub attack_ms: f32,
    pub hold_ms: f32,
    pub release_ms: f32,
    /// How far it closes, in dB.
    pub range_db: f32,
    pub sc_hp_hz: f32,
    pub sc_lp_hz: f32,
}

impl Default for GateSettings {
    fn default() -> Self {
        Self {
            threshold_db: -50.0,
            hysteresis_db: 6.0,
            attack_ms: 0.1,
            hold_ms: 50.0,
            release_ms: 150.0,
            range_db: 80.0,
            sc_hp_hz: 20.0,
            sc_lp_hz: 20_000.0,
        }
    }
}

/// A 12 dB/octave Butterworth high- or low-pass (trapezoidal SVF) for the detector.
#[derive(Debug, Clone, Copy, Default)]
struct DetectorFilter {
    hz: f32,
    a1: f32,
    a2: f32,
    a3: f32,
    state: [[f32; 2]; MAX_CH],
}

impl DetectorFilter {
    #[inline]
    fn set(&mut self, hz: f32, sample_rate: f32) {
        if hz != self.hz {
            self.hz = hz;
            let g = (std::f32::consts::PI * hz.clamp(1.0, 0.49 * sample_rate) / sample_rate).tan();
            let k = std::f32::consts::SQRT_2;
            self.a1 = 1.0 / (1.0 + g * (g + k));
            self.a2 = g * self.a1;
            self.a3 = g * self.a2;
        }
    }

    /// Returns (low-pass, high-pass) of `x` on channel `ch`.
    #[inline(always)]
    fn tick(&mut self, ch: usize, x: f32) -> (f32, f32) {
        let [ic1, ic2] = self.state[ch];
        let v3 = x - ic2;
        let v1 = self.a1 * ic1 + self.a2 * v3;
        let v2 = ic2 + self.a2 * ic1 + self.a3 * v3;
        self.state[ch] = [2.0 * v1 - ic1, 2.0 * v2 - ic2];
        (v2, x - std::f32::consts::SQRT_2 * v1 - v2)
    }
}

/// What the gate works with, derived from its settings (remade only when they change).
#[derive(Debug, Clone, Copy, Default)]
struct Derived {
    open_at: f32,
    close_at: f32,
    hold: u32,
    floor: f32,
    attack_step: f32,
    release_factor: f32,
}

impl Derived {
    fn new(s: &GateSettings, sr: f32) -> Self {
        Self {
            open_at: fastmath::db_to_gain(s.threshold_db),
            close_at: fastmath::db_to_gain(s.threshold_db - s.hysteresis_db.max(0.0)),
            hold: (s.hold_ms * 0.001 * sr) as u32,
            floor: fastmath::db_to_gain(-s.range_db),
            attack_step: 1.0 / (s.attack_ms * 0.001 * sr).max(1.0),
            release_factor: fastmath::db_to_gain(-s.range_db / (s.release_ms * 0.001 * sr).max(1.0)),
        }
    }
}

/// Both detector filters at their end stops (20 Hz, 20 kHz): the detector takes the input as it is.
fn filters_out(s: &GateSettings) -> bool {
    s.sc_hp_hz <= 20.0 && s.sc_lp_hz >= 20_000.0
}

#[derive(Debug, Clone)]
pub struct Gate {
    sample_rate: f32,
    lookahead: Lookahead,
    hp: DetectorFilter,
    lp: DetectorFilter,
    /// Whether the detector filters were out at the last sample.
    filters_out: bool,
    detector_fall: f32,
    min_slew: f32,
    /// The detector's level (linear peak).
    env: f32,
    open: bool,
    /// Samples of hold left once the level fell under the close threshold.
    hold_left: u32,
    gain: f32,
    /// The previous (delayed) input sample of each channel.
    prev: [f32; MAX_CH],
    /// The settings the derived values below were made from.
    made_for: Option<GateSettings>,
    derived: Derived,
    /// Times the gate opened (for the tests and the editor).
    pub opens: u64,
    /// Times it started to close.
    pub closes: u64,
    /// The lowest gain of the block, for the editor's light (linear).
    pub block_min_gain: f32,
    pub block_open: bool,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            sample_rate: 48_000.0,
            lookahead: Lookahead::new(MAX_LOOKAHEAD_MS),
            hp: DetectorFilter::default(),
            lp: DetectorFilter::default(),
            filters_out: false,
            detector_fall: 0.0,
            min_slew: 0.0,
            env: 0.0,
            open: false,
            hold_left: 0,
            gain: 0.0,
            prev: [0.0; MAX_CH],
            made_for: None,
            derived: Derived::default(),
            opens: 0,
            closes: 0,
            block_min_gain: 1.0,
            block_open: false,
        }
    }
}

impl Gate {
    pub fn prepare(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate;
        self.lookahead.prepare(sample_rate);
        self.detector_fall = (-1.0 / (DETECTOR_RELEASE_MS * 0.001 * sample_rate)).exp();
        self.min_slew = 1.0 / (MIN_SLEW_MS * 0.001 * sample_rate);
        self.hp.hz = -1.0;
        self.lp.hz = -1.0;
        self.filters_out = false;
        self.made_for = None;
        self.reset();
    }

    /// Closed, detector empty, lookahead line silent.
    pub fn reset(&mut self) {
        self.lookahead.reset();
        self.reset_detector();
    }

    /// Closed and the detector empty; the lookahead line keeps running (it carries the audio
    /// while the gate is off, so switching it on loses nothing).
    pub fn reset_detector(&mut self) {
        self.hp.state = [[0.0; 2]; MAX_CH];
        self.lp.state = [[0.0; 2]; MAX_CH];
        self.env = 0.0;
        self.open = false;
        self.hold_left = 0;
        self.gain = 0.0;
        self.prev = [0.0; MAX_CH];
    }

    pub fn lookahead_for(&self, ms: f32) -> usize {
        self.lookahead.samples_for(ms)
    }

    pub fn set_lookahead(&mut self, samples: usize) {
        self.lookahead.set(samples);
    }

    pub fn latency(&self) -> usize {
        self.lookahead.latency()
    }

    pub fn is_open(&self) -> bool {
        self.open
    }

    pub fn gain(&self) -> f32 {
        self.gain
    }

    /// Processes a block (1 or 2 channels, at most `BLOCK` frames) in place; `fade[i]` fades the
    /// gate in and out (the audio is always delayed by the lookahead).
    pub fn process_block(&mut self, chans: &mut [&mut [f32]], settings: impl Fn(usize) -> GateSettings, fade: &[f32]) {
        self.process::<false>(chans, settings, fade)
    }

    /// `process_block` with the settings held over the block: they are looked at once.
    pub fn process_steady(&mut self, chans: &mut [&mut [f32]], s: GateSettings, fade: &[f32]) {
        self.process::<true>(chans, |_| s, fade)
    }

    /// In passes: the detector's input level (side by side when its filters are out), the
    /// lookahead delay, the detector, the state and the gain (serial: each sample waits for the
    /// one before), then the gain on the audio (side by side).
    #[inline(always)]
    fn process<const STEADY: bool>(&mut self, chans: &mut [&mut [f32]], settings: impl Fn(usize) -> GateSettings, fade: &[f32]) {
        let n = chans.first().map_or(0, |c| c.len()).min(BLOCK).min(fade.len());
        let channels = chans.len().min(MAX_CH);
        let sr = self.sample_rate;
        if n == 0 {
            return;
        }
        let mut level = [0.0f32; BLOCK];
        for i in 0..n {
            if !STEADY || i == 0 {
                let s = settings(i);
                self.hp.set(s.sc_hp_hz, sr);
                self.lp.set(s.sc_lp_hz, sr);
                let out = filters_out(&s);
                if self.filters_out && !out {
                    // Back in after resting at their end stops: from silence, not a stale state.
                    self.hp.state = [[0.0; 2]; MAX_CH];
                    self.lp.state = [[0.0; 2]; MAX_CH];
                }
                self.filters_out = out;
                if STEADY && out {
                    // The band-limited input is the input: its peak, four lanes at a time.
                    match chans {
                        [l, r, ..] => {
                            for ((v, a), b) in level[..n].iter_mut().zip(&l[..n]).zip(&r[..n]) {
                                *v = a.abs().max(b.abs());
                            }
                        }
                        [m] => {
                            for (v, a) in level[..n].iter_mut().zip(&m[..n]) {
                                *v = a.abs();
                            }
                        }
                        [] => {}
                    }
                    break;
                }
            }
            let filtered = !self.filters_out;
            let mut v = 0.0f32;
            for (ch, c) in chans.iter().enumerate().take(channels) {
                let x = if filtered {
                    let (_, hp) = self.hp.tick(ch, c[i]);
                    self.lp.tick(ch, hp).0
                } else {
                    c[i]
                };
                v = v.max(x.abs());
            }
            level[i] = v;
        }
        for (ch, c) in chans.iter_mut().enumerate().take(MAX_CH) {
            self.lookahead.process(ch, &mut c[..n]);
        }
        let mut gain = [0.0f32; BLOCK];
        for i in 0..n {
            if !STEADY || i == 0 {
                let s = settings(i);
                if self.made_for != Some(s) {
                    self.made_for = Some(s);
                    self.derived = Derived::new(&s, sr);
                }
            }
            let d = self.derived;
            // The detector: the band-limited input's peak, instant up, falling with 10 ms.
            let fallen = self.env * self.detector_fall;
            self.env = if level[i] > fallen {
                level[i]
            } else if fallen < DETECTOR_FLOOR {
                0.0
            } else {
                fallen
            };
            if self.env >= d.open_at {
                if !self.open {
                    self.opens += 1;
                }
                self.open = true;
                self.hold_left = d.hold;
            } else if self.open && self.env < d.close_at {
                if self.hold_left > 0 {
                    self.hold_left -= 1;
                } else {
                    self.open = false;
                    self.closes += 1;
                }
            } else if self.open {
                self.hold_left = d.hold;
            }
            self.block_open |= self.open;
            // Where the gain wants to go: up by a linear ramp over the attack, down by a ramp in
            // dB over the release, never under the range's floor.
            let want = if self.open { (self.gain + d.attack_step).min(1.0) } else { (self.gain * d.release_factor).max(d.floor) };
            if want != self.gain {
                // The click guard (see the module's note).
                let (mut lo, mut hi) = (f32::NEG_INFINITY, f32::INFINITY);
                for (c, &prev) in chans.iter().zip(&self.prev).take(channels) {
                    let x = c[i];
                    let (c, d) = (self.gain * prev, (x - prev).abs());
                    if x.abs() > 1e-20 {
                        let (a, b) = ((c - d) / x, (c + d) / x);
                        lo = lo.max(a.min(b)).min(self.gain);
                        hi = hi.min(a.max(b)).max(self.gain);
                    }
                }
                let (lo, hi) = (lo.min(self.gain - self.min_slew), hi.max(self.gain + self.min_slew));
                self.gain = want.clamp(lo, hi).clamp(0.0, 1.0);
            }
            for (p, c) in self.prev.iter_mut().zip(chans.iter()).take(channels) {
                *p = c[i];
            }
            gain[i] = 1.0 + fade[i] * (self.gain - 1.0);
        }
        for c in chans.iter_mut().take(channels) {
            for (x, &g) in c[..n].iter_mut().zip(&gain[..n]) {
                *x *= g;
            }
        }
        self.block_min_gain = gain[..n].iter().fold(self.block_min_gain, |m, &g| m.min(g));
    }

    /// Only delays (the stage is off), so the latency is the same whether it is on or not.
    pub fn delay_only(&mut self, chans: &mut [&mut [f32]]) {
        for (ch, c) in chans.iter_mut().enumerate().take(MAX_CH) {
            self.lookahead.process(ch, c);
        }
    }
}

super::block_stage_impl!(Gate, GateSettings, steady);

#[cfg(test)]
mod tests {
    use super::*;

    /// The steady form gives the general form's bits: holds with other thresholds, ranges,
    /// times and detector filters (at and off their end stops), a fade, mono and stereo, with
    /// and without lookahead.
    #[test]
    fn the_steady_form_matches_the_general_form() {
        for (channels, lookahead) in [(1usize, 0usize), (2, 0), (2, 48)] {
            let (mut a, mut b) = (Gate::default(), Gate::default());
            for g in [&mut a, &mut b] {
                g.prepare(48_000.0);
                g.set_lookahead(lookahead);
            }
            let mut seed = 12u32;
            let mut t = 0usize;
            let input = move |_| {
                t += 1;
                let level = if (t / 3_000).is_multiple_of(2) { 0.3 } else { 0.001 };
                (crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32 - 0.5) * level
            };
            let hold = |h: usize| GateSettings {
                threshold_db: [-40.0, -25.0, -60.0][h % 3],
                range_db: [80.0, 12.0][h % 2],
                attack_ms: [0.1, 2.0][h % 2],
                release_ms: [150.0, 10.0, 40.0][h % 3],
                sc_hp_hz: [20.0, 200.0][h % 2],
                sc_lp_hz: [20_000.0, 5_000.0, 20_000.0][h % 3],
                ..GateSettings::default()
            };
            let fade = |t: usize| ((t as f32 * 0.0005).sin() * 0.8 + 0.6).clamp(0.0, 1.0);
            let sizes = [64usize, 1, 77, 128, 3, 100];
            crate::dsp::block_test::assert_steady_matches_general(&mut a, &mut b, channels, &sizes, 600, 20, input, hold, fade, |a, b| {
                assert_eq!((a.gain.to_bits(), a.env.to_bits(), a.open), (b.gain.to_bits(), b.env.to_bits(), b.open));
            });
        }
    }
}
