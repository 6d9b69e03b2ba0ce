//! The automatic gain control stage (`dsp::agc`): a slow loudness leveler before the compressor.

use super::{block_stage, lanes, Ctx, Stage, StageInfo};
use crate::dsp::agc::{Agc, AgcSettings};
use crate::param_kinds::{linear_param, switch, GAIN_SMOOTH_MS};
use nice_plug::prelude::*;

#[derive(Params)]
pub struct AgcParams {
    #[id = "agc_on"]
    pub on: BoolParam,
    #[id = "agc_target"]
    pub target: FloatParam,
    #[id = "agc_range"]
    pub range: FloatParam,
    #[id = "agc_speed"]
    pub speed: FloatParam,
    #[id = "agc_gate"]
    pub gate: FloatParam,
}

impl Default for AgcParams {
    fn default() -> Self {
        Self {
            on: switch("AGC", false),
            target: linear_param("AGC Target", -18.0, -36.0, -6.0, " LUFS", 1),
            range: linear_param("AGC Range", 12.0, 0.0, 30.0, " dB", 1),
            speed: FloatParam::new("AGC Speed", 3.0, FloatRange::Skewed { min: 0.5, max: 20.0, factor: FloatRange::skew_factor(-1.0) })
                .with_smoother(SmoothingStyle::Logarithmic(GAIN_SMOOTH_MS))
                .with_unit(" s")
                .with_value_to_string(formatters::v2s_f32_rounded(2)),
            gate: linear_param("AGC Gate", -50.0, -70.0, -20.0, " LUFS", 1),
        }
    }
}

lanes!(AgcLanes for AgcParams { target, range, speed, gate });

impl Stage for Agc {
    type Params = AgcParams;
    type Lanes = AgcLanes;
    const INFO: StageInfo = StageInfo { name: "AGC", switch: "agc_on", with: &[] };

    fn is_on(p: &AgcParams) -> bool {
        p.on.value()
    }
    fn prepare(&mut self, sample_rate: f32) {
        Agc::prepare(self, sample_rate);
    }
    fn reset(&mut self) {
        Agc::reset(self);
    }
    /// Its fast detector falls to zero (flushed at 1e-30) within 3.5 s of silence; its measure
    /// and its gain hold through silence by design.
    fn settle_seconds(_: &AgcParams) -> f32 {
        crate::dsp::agc::SILENCE_SETTLES_S
    }
    fn skip_silence(&mut self, frames: u64) {
        Agc::skip_silence(self, frames);
    }
    #[inline]
    fn process(&mut self, chans: &mut [&mut [f32]], l: &AgcLanes, steady: bool, _: &AgcParams, _: &Ctx, fade: &[f32]) {
        let settings =
            |i: usize| AgcSettings { target_lufs: l.target[i], max_range_db: l.range[i], speed_s: l.speed[i], gate_lufs: l.gate[i] };
        block_stage!(self, chans, steady, settings, fade);
    }
}
