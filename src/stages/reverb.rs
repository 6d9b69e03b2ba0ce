//! The reverb stage (`dsp::reverb`): pre-delay, early reflections and an 8-line FDN.

use super::{block_stage, lanes, Ctx, Stage, StageInfo};
use crate::dsp::reverb::{Reverb, ReverbSettings};
use crate::param_kinds::{linear_param, switch, GAIN_SMOOTH_MS};
use nice_plug::prelude::*;

#[derive(Params)]
pub struct ReverbParams {
    #[id = "rev_on"]
    pub on: BoolParam,
    #[id = "rev_predelay"]
    pub predelay: FloatParam,
    #[id = "rev_size"]
    pub size: FloatParam,
    #[id = "rev_decay"]
    pub decay: FloatParam,
    #[id = "rev_damping"]
    pub damping: FloatParam,
    #[id = "rev_mod"]
    pub modulation: FloatParam,
    #[id = "rev_width"]
    pub width: FloatParam,
    #[id = "rev_early"]
    pub early: FloatParam,
    #[id = "rev_mix"]
    pub mix: FloatParam,
}

impl Default for ReverbParams {
    fn default() -> Self {
        Self {
            on: switch("Reverb", false),
            // Linear smoothing: its range starts at zero, where log smoothing is undefined.
            predelay: FloatParam::new(
                "Pre-Delay",
                10.0,
                FloatRange::Skewed { min: 0.0, max: 200.0, factor: FloatRange::skew_factor(-1.5) },
            )
            .with_smoother(SmoothingStyle::Linear(GAIN_SMOOTH_MS))
            .with_unit(" ms")
            .with_value_to_string(formatters::v2s_f32_rounded(1)),
            size: linear_param("Size", 50.0, 0.0, 100.0, " %", 1),
            decay: FloatParam::new("Decay", 1.2, FloatRange::Skewed { min: 0.2, max: 20.0, factor: FloatRange::skew_factor(-1.5) })
                .with_smoother(SmoothingStyle::Logarithmic(GAIN_SMOOTH_MS))
                .with_unit(" s")
                .with_value_to_string(formatters::v2s_f32_rounded(2)),
            damping: linear_param("Damping", 40.0, 0.0, 100.0, " %", 1),
            modulation: linear_param("Modulation", 20.0, 0.0, 100.0, " %", 1),
            width: linear_param("Width", 100.0, 0.0, 100.0, " %", 1),
            early: linear_param("Early Reflections", 30.0, 0.0, 100.0, " %", 1),
            mix: linear_param("Reverb Level", 20.0, 0.0, 100.0, " %", 1),
        }
    }
}

lanes!(ReverbLanes for ReverbParams { predelay, size, decay, damping, modulation, width, early, mix });

impl Stage for Reverb {
    type Params = ReverbParams;
    type Lanes = ReverbLanes;
    const INFO: StageInfo = StageInfo { name: "Reverb", switch: "rev_on", with: &[] };

    fn is_on(p: &ReverbParams) -> bool {
        p.on.value()
    }
    fn prepare(&mut self, sample_rate: f32) {
        Reverb::prepare(self, sample_rate);
    }
    fn reset(&mut self) {
        Reverb::reset(self);
    }
    /// The lines are empty after the tail; the LFOs go on turning.
    fn skip_silence(&mut self, frames: u64) {
        Reverb::skip_silence(self, frames);
    }
    /// The decay setting is the RT60 (60 dB in `decay` seconds), after the pre-delay.
    fn tail_seconds(p: &ReverbParams, _: &Ctx, depth_db: f32) -> f32 {
        p.predelay.value() * 0.001 + p.decay.value() * depth_db / 60.0
    }
    #[inline]
    fn process(&mut self, chans: &mut [&mut [f32]], r: &ReverbLanes, steady: bool, _: &ReverbParams, _: &Ctx, fade: &[f32]) {
        let settings = |i: usize| ReverbSettings {
            predelay_ms: r.predelay[i],
            size: r.size[i] * 0.01,
            decay_s: r.decay[i],
            damping: r.damping[i] * 0.01,
            modulation: r.modulation[i] * 0.01,
            width: r.width[i] * 0.01,
            early: r.early[i] * 0.01,
            mix: r.mix[i] * 0.01,
        };
        block_stage!(self, chans, steady, settings, fade);
    }
}
