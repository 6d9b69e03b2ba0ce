//! A frequency shifter for the feedback loop (Schroeder, "Improvement of acoustic-feedback
//! stability by frequency shifting", JASA 1964): every component moves up by a few hertz, so a
//! component that goes round the loop lands on a different frequency each time and cannot build
//! up on one peak of the room's response; the loop then howls only once its gain averaged over
//! the response's peaks and dips reaches unity, not its highest peak.
//!
//! Zero latency: the analytic signal comes from two chains of allpass sections whose phases
//! differ by 90° (a Hilbert pair, made here from the half-band design of `eq::halfband` moved by
//! a quarter of the rate), then turns with an oscillator (2 Hz in mode "notch + fixed + shift",
//! 2 Hz under the canceller as well) whose phase is counted in stream samples (the output does not
//! depend on how blocks are cut; a change of shift turns on from the phase reached, no jump).

use crate::dsp::eq::halfband::coefficients;
use crate::dsp::MAX_CH;

/// The shift in mode "notch + fixed + shift" (Hz). Measured in the closed loop (`cargo xtask
/// howl`): 2 Hz adds as much stable gain on average as 5 Hz did (5.7 against 5.8 dB over nine
/// rooms and sources) with half the distortion (SD 1.9-2.4 dB against 3.8-4.7, ERB-weighted), and
/// moves a sung 220 Hz note 16 cents instead of 39.
pub const NOTCH_SHIFT_HZ: f32 = 2.0;
/// The shift under the canceller (Hz). The canceller learns only while a howl is in sight (see
/// `afc`), so the shift no longer has to keep it off music with no loop: 2 Hz, as in the shift
/// mode, halves the distortion of the 5 Hz this mode used (SD 1.9-2.4 dB against 3.8-4.7 with
/// the loop open) and the canceller still adds 8 dB or more of stable gain on every room and
/// source of the bench (`cargo xtask howl --canceller`).
pub const CANCELLER_SHIFT_HZ: f32 = 2.0;
/// Allpass sections in the pair (half in each chain).
pub const SECTIONS: usize = 12;
/// The pair is 90° apart from this far above 0 Hz to this far below Nyquist.
pub const EDGE_HZ: f64 = 15.0;
/// How long the pair's allpass chains ring per dB of fall: their slowest poles sit near the 15 Hz
/// edge, so the time hardly depends on the rate (an impulse falls 150 dB in 0.40 s at 44.1 and
/// 48 kHz, 0.34 s at 96, 0.24 s at 192; `the_shifter_rings_within_its_tail`).
const RING_S_PER_DB: f32 = 0.0029;

/// How long the shifter rings on after its input stops, to `depth_db` down (s).
pub fn ring_seconds(depth_db: f32) -> f32 {
    RING_S_PER_DB * depth_db
}

/// One chain of second-order allpass sections (a − z⁻²)/(1 − a·z⁻²).
#[derive(Debug, Clone, Copy, Default)]
struct Chain {
    a: [f32; SECTIONS / 2],
    /// Per section: x(n−1), x(n−2), y(n−1), y(n−2).
    s: [[f32; 4]; SECTIONS / 2],
}

impl Chain {
    #[inline(always)]
    fn tick(&mut self, mut x: f32) -> f32 {
        for (a, s) in self.a.iter().zip(self.s.iter_mut()) {
            let y = a * (x + s[3]) - s[1];
            *s = [x, s[0], y, s[2]];
            x = y;
        }
        x
    }
}

#[derive(Debug, Clone)]
pub struct FreqShift {
    /// Per channel: the in-phase chain, the quadrature chain and the quadrature's one-sample
    /// delay.
    chains: [[Chain; 2]; MAX_CH],
    late: [f32; MAX_CH],
    /// The oscillator as a turning phasor (cos, sin) and its turn per sample, in f64; kept on
    /// the unit circle by a first-order correction each sample.
    phasor: (f64, f64),
    turn: (f64, f64),
    osc: [(f32, f32); crate::dsp::BLOCK],
    /// The rate and the shift (Hz) the turn is for.
    sr: f64,
    hz: f32,
}

impl Default for FreqShift {
    fn default() -> Self {
        Self {
            chains: [[Chain::default(); 2]; MAX_CH],
            late: [0.0; MAX_CH],
            phasor: (1.0, 0.0),
            turn: (1.0, 0.0),
            osc: [(1.0, 0.0); crate::dsp::BLOCK],
            sr: 48_000.0,
            hz: 0.0,
        }
    }
}

impl FreqShift {
    pub fn prepare(&mut self, sr: f32) {
        let c = coefficients(SECTIONS, EDGE_HZ / sr as f64);
        let mut chain = [Chain::default(); 2];
        for (i, &a) in c.iter().enumerate() {
            chain[i % 2].a[i / 2] = a as f32;
        }
        self.chains = [chain; MAX_CH];
        self.sr = sr as f64;
        self.set_turn();
        self.reset();
    }

    /// Sets the shift (Hz); the oscillator goes on from its phase.
    #[inline]
    pub fn set_hz(&mut self, hz: f32) {
        if hz != self.hz {
            self.hz = hz;
            self.set_turn();
        }
    }

    fn set_turn(&mut self) {
        let w = std::f64::consts::TAU * self.hz as f64 / self.sr;
        self.turn = (w.cos(), w.sin());
    }

    pub fn reset(&mut self) {
        self.clear_state();
        self.phasor = (1.0, 0.0);
    }

    /// Skips `frames` samples of silence: the allpass chains hold nothing any more (their state
    /// had rung out before the chain went idle) and the oscillator turns on by as many samples,
    /// as it would have (to within rounding: the turn is worked out in f64 from the whole cycles'
    /// remainder).
    pub fn skip(&mut self, frames: u64) {
        self.clear_state();
        let cycles = self.hz as f64 * frames as f64 / self.sr;
        let w = std::f64::consts::TAU * (cycles - cycles.floor());
        let ((c, s), (tc, ts)) = (self.phasor, (w.cos(), w.sin()));
        self.phasor = (c * tc - s * ts, s * tc + c * ts);
    }

    fn clear_state(&mut self) {
        for ch in self.chains.iter_mut().flatten() {
            ch.s = [[0.0; 4]; SECTIONS / 2];
        }
        self.late = [0.0; MAX_CH];
    }

    /// Shifts `chans` (1 or 2 channels, `n` ≤ `BLOCK` samples) up by the shift set in place;
    /// `amount[i]` crossfades from the input (0) to the shifted signal (1).
    pub fn run(&mut self, chans: &mut [&mut [f32]], n: usize, amount: &[f32]) {
        let channels = chans.len().min(MAX_CH);
        let n = n.min(crate::dsp::BLOCK);
        let (mut c, mut s) = self.phasor;
        let (tc, ts) = self.turn;
        for o in self.osc[..n].iter_mut() {
            *o = (c as f32, s as f32);
            (c, s) = (c * tc - s * ts, s * tc + c * ts);
            let k = 1.5 - 0.5 * (c * c + s * s);
            (c, s) = (c * k, s * k);
        }
        self.phasor = (c, s);
        for (ch, x) in chans.iter_mut().enumerate().take(channels) {
            let [p, q] = &mut self.chains[ch];
            let late = &mut self.late[ch];
            for ((x, &g), &(co, si)) in x[..n].iter_mut().zip(amount).zip(&self.osc[..n]) {
                let i = p.tick(*x);
                let qd = *late;
                *late = q.tick(*x);
                let y = i * co - qd * si;
                *x += g * (y - *x);
            }
            for chain in self.chains[ch].iter_mut() {
                for v in chain.s.iter_mut().flatten() {
                    *v = crate::dsp::flush_tiny(*v);
                }
            }
        }
    }

    /// The pair's phase difference at `f` Hz for rate `sr`, degrees (for the tests).
    pub fn pair_phase_deg(&self, f: f64, sr: f64) -> f64 {
        let w = std::f64::consts::TAU * f / sr;
        let phase = |chain: &Chain| {
            chain
                .a
                .iter()
                .map(|&a| {
                    // (a − z⁻²)/(1 − a·z⁻²) at z = e^{jw}.
                    let a = a as f64;
                    let (c2, s2) = ((2.0 * w).cos(), (2.0 * w).sin());
                    let num = (a - c2, s2);
                    let den = (1.0 - a * c2, a * s2);
                    num.1.atan2(num.0) - den.1.atan2(den.0)
                })
                .sum::<f64>()
        };
        let d = phase(&self.chains[0][0]) - (phase(&self.chains[0][1]) - w);
        let deg = d.to_degrees().rem_euclid(360.0);
        if deg > 180.0 {
            deg - 360.0
        } else {
            deg
        }
    }
}
