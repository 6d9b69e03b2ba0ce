//! The parametric EQ stage (`dsp::eq`): after the gate (it must not lift the noise the gate
//! judges) and before the AGC and the compressor, so they react to the corrected tone.

use super::{block_stage, lanes, Ctx, Stage, StageInfo};
use crate::bridge::Bridge;
use crate::dsp::eq::{BandSettings, Eq, EqSettings};
use crate::param_kinds::{gain_db_param, hz_param, switch, GAIN_SMOOTH_MS};
use nice_plug::prelude::*;
use std::sync::Arc;

#[derive(Params)]
pub struct EqParams {
    #[id = "eq_on"]
    pub on: BoolParam,
    #[id = "eq1_on"]
    pub ls_on: BoolParam,
    #[id = "eq1_freq"]
    pub ls_freq: FloatParam,
    #[id = "eq1_gain"]
    pub ls_gain: FloatParam,
    #[id = "eq1_q"]
    pub ls_q: FloatParam,
    #[id = "eq2_on"]
    pub b1_on: BoolParam,
    #[id = "eq2_freq"]
    pub b1_freq: FloatParam,
    #[id = "eq2_gain"]
    pub b1_gain: FloatParam,
    #[id = "eq2_q"]
    pub b1_q: FloatParam,
    #[id = "eq3_on"]
    pub b2_on: BoolParam,
    #[id = "eq3_freq"]
    pub b2_freq: FloatParam,
    #[id = "eq3_gain"]
    pub b2_gain: FloatParam,
    #[id = "eq3_q"]
    pub b2_q: FloatParam,
    #[id = "eq4_on"]
    pub b3_on: BoolParam,
    #[id = "eq4_freq"]
    pub b3_freq: FloatParam,
    #[id = "eq4_gain"]
    pub b3_gain: FloatParam,
    #[id = "eq4_q"]
    pub b3_q: FloatParam,
    #[id = "eq5_on"]
    pub hs_on: BoolParam,
    #[id = "eq5_freq"]
    pub hs_freq: FloatParam,
    #[id = "eq5_gain"]
    pub hs_gain: FloatParam,
    #[id = "eq5_q"]
    pub hs_q: FloatParam,
}

/// A band's Q, 0.3 to 20 on a logarithmic axis.
fn q_param(name: &str, default: f32) -> FloatParam {
    FloatParam::new(name, default, FloatRange::Skewed { min: 0.3, max: 20.0, factor: FloatRange::skew_factor(-1.5) })
        .with_smoother(SmoothingStyle::Logarithmic(GAIN_SMOOTH_MS))
        .with_value_to_string(Arc::new(|v| format!("{v:.2}")))
}

impl Default for EqParams {
    fn default() -> Self {
        Self {
            on: switch("EQ", false),
            ls_on: switch("Low Shelf", true),
            ls_freq: hz_param("Low Shelf Freq", 1e+02, 20.0, 20_000.0),
            ls_gain: gain_db_param("Low Shelf Gain", -24.0, 24.0),
            ls_q: q_param("Low Shelf Q", 0.707),
            b1_on: switch("Bell 1", true),
            b1_freq: hz_param("Bell 1 Freq", 3e+02, 20.0, 20_000.0),
            b1_gain: gain_db_param("Bell 1 Gain", -24.0, 24.0),
            b1_q: q_param("Bell 1 Q", 1.0),
            b2_on: switch("Bell 2", true),
            b2_freq: hz_param("Bell 2 Freq", 1e+03, 20.0, 20_000.0),
            b2_gain: gain_db_param("Bell 2 Gain", -24.0, 24.0),
            b2_q: q_param("Bell 2 Q", 1.0),
            b3_on: switch("Bell 3", true),
            b3_freq: hz_param("Bell 3 Freq", 3e+03, 20.0, 20_000.0),
            b3_gain: gain_db_param("Bell 3 Gain", -24.0, 24.0),
            b3_q: q_param("Bell 3 Q", 1.0),
            hs_on: switch("High Shelf", true),
            hs_freq: hz_param("High Shelf Freq", 8e+03, 20.0, 20_000.0),
            hs_gain: gain_db_param("High Shelf Gain", -24.0, 24.0),
            hs_q: q_param("High Shelf Q", 0.707),
        }
    }
}

lanes!(EqLanes for EqParams { ls_freq, ls_gain, ls_q, b1_freq, b1_gain, b1_q, b2_freq, b2_gain, b2_q, b3_freq, b3_gain, b3_q, hs_freq, hs_gain, hs_q });

impl EqParams {
    /// The bands' settings as they are now (for the editor's curve).
    pub fn settings(&self) -> EqSettings {
        let v = |p: &FloatParam| p.value();
        EqSettings {
            bands: [
                BandSettings { on: self.ls_on.value(), freq: v(&self.ls_freq), gain_db: v(&self.ls_gain), q: v(&self.ls_q) },
                BandSettings { on: self.b1_on.value(), freq: v(&self.b1_freq), gain_db: v(&self.b1_gain), q: v(&self.b1_q) },
                BandSettings { on: self.b2_on.value(), freq: v(&self.b2_freq), gain_db: v(&self.b2_gain), q: v(&self.b2_q) },
                BandSettings { on: self.b3_on.value(), freq: v(&self.b3_freq), gain_db: v(&self.b3_gain), q: v(&self.b3_q) },
                BandSettings { on: self.hs_on.value(), freq: v(&self.hs_freq), gain_db: v(&self.hs_gain), q: v(&self.hs_q) },
            ],
        }
    }
}

impl Stage for Eq {
    type Params = EqParams;
    type Lanes = EqLanes;
    const INFO: StageInfo = StageInfo {
        name: "EQ",
        switch: "eq_on",
        with: &[("eq1_gain", 3.0), ("eq2_gain", -4.0), ("eq3_gain", 2.0), ("eq4_gain", 3.0), ("eq5_gain", -2.0)],
    };

    fn is_on(p: &EqParams) -> bool {
        p.on.value()
    }
    fn prepare(&mut self, sample_rate: f32) {
        Eq::prepare(self, sample_rate);
    }
    fn reset(&mut self) {
        Eq::reset(self);
    }
    /// Each band's poles ring down at e^(−ω·t / 2Q): the slowest band that acts sets the tail
    /// (to `depth_db` down), plus the half-bands' few samples.
    fn tail_seconds(p: &EqParams, _: &Ctx, depth_db: f32) -> f32 {
        let nepers = depth_db / 8.686;
        let s = p.settings();
        let slowest = s
            .bands
            .iter()
            .filter(|b| b.on && b.gain_db != 0.0)
            .map(|b| {
                // A boosting bell's poles have Q·A; a shelf's, its Q.
                let q = b.q * crate::dsp::db_to_gain(b.gain_db.abs() * 0.5).max(1.0);
                let f = b.freq / crate::dsp::db_to_gain(b.gain_db.abs() * 0.5).sqrt();
                nepers * 2.0 * q / (std::f32::consts::TAU * f)
            })
            .fold(0.0f32, f32::max);
        slowest + 0.01
    }
    #[inline]
    fn process(&mut self, chans: &mut [&mut [f32]], l: &EqLanes, steady: bool, p: &EqParams, _: &Ctx, fade: &[f32]) {
        let settings = |i: usize| EqSettings {
            bands: [
                BandSettings { on: p.ls_on.value(), freq: l.ls_freq[i], gain_db: l.ls_gain[i], q: l.ls_q[i] },
                BandSettings { on: p.b1_on.value(), freq: l.b1_freq[i], gain_db: l.b1_gain[i], q: l.b1_q[i] },
                BandSettings { on: p.b2_on.value(), freq: l.b2_freq[i], gain_db: l.b2_gain[i], q: l.b2_q[i] },
                BandSettings { on: p.b3_on.value(), freq: l.b3_freq[i], gain_db: l.b3_gain[i], q: l.b3_q[i] },
                BandSettings { on: p.hs_on.value(), freq: l.hs_freq[i], gain_db: l.hs_gain[i], q: l.hs_q[i] },
            ],
        };
        block_stage!(self, chans, steady, settings, fade);
    }
    fn publish(&mut self, _bridge: &Bridge) {}
}
