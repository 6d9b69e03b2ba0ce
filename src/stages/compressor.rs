//! The compressor stage (`dsp::compressor`), whose lookahead is the chain's latency.

use super::{block_stage, lanes, Ctx, Stage, StageInfo};
use crate::bridge::Bridge;
use crate::dsp::compressor::{CompSettings, Compressor};
use crate::param_kinds::{linear_param, ms_param, switch, GAIN_SMOOTH_MS};
use nice_plug::prelude::*;
use std::sync::atomic::Ordering;

#[derive(Params)]
pub struct CompressorParams {
    #[id = "comp_on"]
    pub on: BoolParam,
    #[id = "comp_thresh"]
    pub threshold: FloatParam,
    #[id = "comp_ratio"]
    pub ratio: FloatParam,
    #[id = "comp_knee"]
    pub knee: FloatParam,
    #[id = "comp_attack"]
    pub attack: FloatParam,
    #[id = "comp_release"]
    pub release: FloatParam,
    #[id = "comp_makeup"]
    pub makeup: FloatParam,
    #[id = "comp_automakeup"]
    pub auto_makeup: BoolParam,
    /// Not smoothed: it changes the plugin's latency, which hosts re-read on a restart.
    #[id = "comp_lookahead"]
    pub lookahead: FloatParam,
}

impl Default for CompressorParams {
    fn default() -> Self {
        Self {
            on: switch("Compressor", false),
            threshold: linear_param("Threshold", -18.0, -60.0, 0.0, " dB", 1),
            ratio: FloatParam::new("Ratio", 3.0, FloatRange::Skewed { min: 1.0, max: 20.0, factor: FloatRange::skew_factor(-1.5) })
                .with_smoother(SmoothingStyle::Linear(GAIN_SMOOTH_MS))
                .with_value_to_string(formatters::v2s_compression_ratio(2))
                .with_string_to_value(formatters::s2v_compression_ratio()),
            knee: linear_param("Knee", 6.0, 0.0, 24.0, " dB", 1),
            attack: ms_param("Attack", 10.0, 0.1, 200.0),
            release: ms_param("Release", 150.0, 5.0, 3_000.0),
            makeup: linear_param("Makeup", 0.0, 0.0, 24.0, " dB", 1),
            auto_makeup: switch("Auto Makeup", false),
            lookahead: FloatParam::new("Lookahead", 0.0, FloatRange::Linear { min: 0.0, max: 10.0 })
                .with_unit(" ms")
                .with_step_size(0.1)
                .with_value_to_string(formatters::v2s_f32_rounded(1)),
        }
    }
}

lanes!(CompressorLanes for CompressorParams { threshold, ratio, knee, attack, release, makeup });

impl Stage for Compressor {
    type Params = CompressorParams;
    type Lanes = CompressorLanes;
    const INFO: StageInfo = StageInfo { name: "Compressor", switch: "comp_on", with: &[("comp_lookahead", 2.0)] };

    fn is_on(p: &CompressorParams) -> bool {
        p.on.value()
    }
    fn prepare(&mut self, sample_rate: f32) {
        Compressor::prepare(self, sample_rate);
    }
    fn reset(&mut self) {
        Compressor::reset(self);
    }
    /// Only the envelope: the lookahead line keeps running while off, so it holds no stale audio.
    fn restart(&mut self) {
        self.reset_envelope();
    }
    /// After the input stops the gain reduction releases toward 0 dB with the release time
    /// constant: from the deepest reduction (60 dB) it is within 1e-6 dB of it after
    /// ln(60 / 1e-6) ≈ 18 time constants, a gain error under −138 dB of the signal.
    fn settle_seconds(p: &CompressorParams) -> f32 {
        18.0 * p.release.value() * 0.001
    }
    /// A long silence leaves the envelope released and the lookahead line empty.
    fn skip_silence(&mut self, _frames: u64) {
        Compressor::reset(self);
    }
    fn sync_latency(&mut self, p: &CompressorParams) -> usize {
        let latency = self.lookahead_for(p.lookahead.value());
        if latency != self.latency() {
            self.set_lookahead(latency);
        }
        latency
    }
    #[inline]
    fn process(&mut self, chans: &mut [&mut [f32]], l: &CompressorLanes, steady: bool, p: &CompressorParams, _: &Ctx, fade: &[f32]) {
        let auto_makeup = p.auto_makeup.value();
        let settings = |i: usize| CompSettings {
            threshold_db: l.threshold[i],
            ratio: l.ratio[i],
            knee_db: l.knee[i],
            attack_ms: l.attack[i],
            release_ms: l.release[i],
            makeup_db: l.makeup[i],
            auto_makeup,
        };
        block_stage!(self, chans, steady, settings, fade);
    }
    /// Off, it still delays by its lookahead, so the latency stays the same whether it is on or not.
    fn process_off(&mut self, chans: &mut [&mut [f32]]) {
        if self.latency() == 0 {
            return;
        }
        match chans {
            [l, r] => {
                for (a, b) in l.iter_mut().zip(r.iter_mut()) {
                    let mut frame = [*a, *b];
                    self.delay_only(&mut frame);
                    [*a, *b] = frame;
                }
            }
            [m] => {
                for x in m.iter_mut() {
                    let mut frame = [*x];
                    self.delay_only(&mut frame);
                    *x = frame[0];
                }
            }
            _ => {}
        }
    }
    fn publish(&mut self, bridge: &Bridge) {
        bridge.gain_reduction_db.fetch_min(self.block_gr_db, Ordering::Relaxed);
        self.block_gr_db = 0.0;
        bridge.comp_input_db.store(crate::dsp::gain_to_db(self.block_peak), Ordering::Relaxed);
        self.block_peak = 0.0;
    }
}
