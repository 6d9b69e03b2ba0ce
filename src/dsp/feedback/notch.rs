//! The suppressor's notches: narrow cuts at fixed frequencies whose depth glides (never jumps),
//! each a trapezoidal state-variable bell (Simper's form as its state-space map, `SvfCoefs`), so
//! a depth that changes every sample neither clicks nor zippers and the filter stays stable.

use crate::dsp::eq::design::SvfCoefs;
use crate::dsp::{fastmath, MAX_CH};

/// How fast a notch deepens (dB per second): 18 dB in 20 ms, quick enough to catch a howl,
/// slow enough to be a glide rather than a step.
pub const ATTACK_DB_PER_S: f32 = 900.0;
/// How long a released notch takes to lift from its depth to nothing.
pub const LIFT_S: f32 = 2.0;

/// The Q of a bell `oct` octaves wide (between the points where half its cut in dB remains).
pub fn q_for_width(oct: f32) -> f32 {
    let r = 2f32.powf(oct.max(1e-3));
    r.sqrt() / (r - 1.0)
}

/// One notch: where it is, how deep, and its filter per channel.
#[derive(Debug, Clone, Copy)]
pub struct Notch {
    /// Its frequency (Hz); 0 when the slot is free.
    pub freq: f32,
    /// Its depth now and the depth it glides to (dB of cut, ≥ 0).
    pub depth: f32,
    pub target: f32,
    /// Seconds since its frequency last threatened (for the release).
    pub idle_s: f32,
    /// How fast it lifts when its target falls (dB per sample): set when a dynamic notch is
    /// released; otherwise (a fixed notch at the user's word) as fast as a notch comes in.
    pub lift: f32,
    /// tan(π·f/fs) and the width's 1/Q, for the coefficients.
    g: f32,
    inv_q: f32,
    /// The depth the coefficients were made for.
    made_for: f32,
    coefs: SvfCoefs,
    state: [[f32; 2]; MAX_CH],
}

impl Default for Notch {
    fn default() -> Self {
        Self {
            freq: 0.0,
            depth: 0.0,
            target: 0.0,
            idle_s: 0.0,
            lift: 0.0,
            g: 0.0,
            inv_q: 1.0,
            made_for: 0.0,
            coefs: SvfCoefs::IDENTITY,
            state: [[0.0; 2]; MAX_CH],
        }
    }
}

impl Notch {
    pub fn is_free(&self) -> bool {
        self.freq == 0.0
    }

    /// Places the notch at `freq` (Hz) for rate `sr`, gliding in from no cut to `depth`.
    pub fn place(&mut self, freq: f32, depth: f32, width_oct: f32, sr: f32) {
        *self = Notch::default();
        self.freq = freq;
        self.target = depth;
        self.lift = ATTACK_DB_PER_S / sr;
        self.g = (std::f32::consts::PI * freq.clamp(10.0, 0.49 * sr) / sr).tan();
        self.inv_q = 1.0 / q_for_width(width_oct);
        self.made_for = f32::NAN;
    }

    /// A new width for a placed notch (its centre and depth stay).
    pub fn set_width(&mut self, width_oct: f32) {
        let inv_q = 1.0 / q_for_width(width_oct);
        if inv_q != self.inv_q {
            self.inv_q = inv_q;
            self.made_for = f32::NAN;
        }
    }

    /// The bell's map for the current depth: A = 10^(−depth/40), k = 1/(Q·A) (the cut's width
    /// stays the same whatever its depth), y = x + k·(A² − 1)·v1.
    fn make(&mut self) {
        self.made_for = self.depth;
        let a = fastmath::exp2(-self.depth * (std::f32::consts::LOG2_10 / 40.0));
        let k = self.inv_q / a;
        self.coefs = SvfCoefs::simper(self.g, k, [1.0, k * (a * a - 1.0), 0.0]);
    }

    /// Moves the depth one sample toward the target (`attack` and `lift` in dB per sample).
    #[inline]
    fn glide(&mut self, attack: f32, lift: f32) {
        if self.depth < self.target {
            self.depth = (self.depth + attack).min(self.target);
        } else if self.depth > self.target {
            self.depth = (self.depth - lift).max(self.target);
        }
        if self.depth != self.made_for {
            self.make();
        }
    }

    /// True while the notch cuts or is about to.
    pub fn is_active(&self) -> bool {
        !self.is_free() && (self.depth > 0.0 || self.target > 0.0)
    }

    /// Runs `n` samples of `chans` (1 or 2 channels) through the notch, its depth gliding per
    /// sample. `lift` is its lifting rate for this notch (dB per sample).
    #[inline]
    pub fn run(&mut self, chans: &mut [&mut [f32]], n: usize, attack: f32, lift: f32) {
        let channels = chans.len().min(MAX_CH);
        if self.depth == self.target && self.depth == self.made_for {
            for (c, st) in chans.iter_mut().zip(self.state.iter_mut()).take(channels) {
                let coefs = self.coefs;
                for x in c[..n].iter_mut() {
                    *x = coefs.tick(st, *x);
                }
            }
            self.flush();
            return;
        }
        for i in 0..n {
            self.glide(attack, lift);
            if self.depth == 0.0 && self.target == 0.0 {
                // Lifted: from this sample on it passes the signal as it is and rests (wherever
                // the host's block ends: its bell at no depth is transparent only to rounding);
                // when it cuts again it starts from silence, not from a state left from before.
                self.clear_state();
                return;
            }
            for (c, st) in chans.iter_mut().zip(self.state.iter_mut()).take(channels) {
                c[i] = self.coefs.tick(st, c[i]);
            }
        }
        self.flush();
    }

    /// States too small to hear go to zero (a decaying state would otherwise turn subnormal).
    #[inline]
    fn flush(&mut self) {
        for v in self.state.iter_mut().flatten() {
            *v = crate::dsp::flush_tiny(*v);
        }
    }

    /// The notch's magnitude in dB at `f` Hz (for the editor and the tests): the analog bell it
    /// is the trapezoidal image of, at the prewarped frequency.
    pub fn db_at(&self, f: f32, sr: f32) -> f32 {
        if self.is_free() || self.depth <= 0.0 {
            return 0.0;
        }
        let wt = (std::f32::consts::PI * f.clamp(0.0, 0.499 * sr) / sr).tan() / self.g;
        let a = 10f32.powf(-self.depth / 40.0);
        let k = self.inv_q / a;
        // H(s) = (s² + k·A²·s + 1) / (s² + k·s + 1) at s = j·wt.
        let re = 1.0 - wt * wt;
        let num = re * re + (k * a * a * wt).powi(2);
        let den = re * re + (k * wt).powi(2);
        10.0 * (num / den).log10()
    }

    pub fn clear_state(&mut self) {
        self.state = [[0.0; 2]; MAX_CH];
    }

    pub fn has_subnormal_state(&self) -> bool {
        self.state.iter().flatten().any(|x| x.is_subnormal())
    }
}
