//! The noise gate stage (`dsp::gate`). After the filters (rumble does not open it) and before
//! the EQ and the dynamics, which would raise the very noise it is there to cut.

use super::{block_stage, lanes, Ctx, Stage, StageInfo};
use crate::bridge::Bridge;
use crate::dsp::gate::{Gate, GateSettings};
use crate::param_kinds::{hz_param, linear_param, ms_param, switch};
use nice_plug::prelude::*;
use std::sync::atomic::Ordering;

#[derive(Params)]
pub struct GateParams {
    #[id = "gate_on"]
    pub on: BoolParam,
    #[id = "gate_thresh"]
    pub threshold: FloatParam,
    #[id = "gate_hyst"]
    pub hysteresis: FloatParam,
    #[id = "gate_attack"]
    pub attack: FloatParam,
    #[id = "gate_hold"]
    pub hold: FloatParam,
    #[id = "gate_release"]
    pub release: FloatParam,
    #[id = "gate_range"]
    pub range: FloatParam,
    /// Not smoothed: it changes the plugin's latency (added to the compressor's).
    #[id = "gate_lookahead"]
    pub lookahead: FloatParam,
    #[id = "gate_sc_hp"]
    pub sc_hp: FloatParam,
    #[id = "gate_sc_lp"]
    pub sc_lp: FloatParam,
}

impl Default for GateParams {
    fn default() -> Self {
        let d = GateSettings::default();
        Self {
            on: switch("Gate", false),
            threshold: linear_param("Gate Threshold", d.threshold_db, -90.0, 0.0, " dB", 1),
            hysteresis: linear_param("Gate Hysteresis", d.hysteresis_db, 0.0, 20.0, " dB", 1),
            attack: ms_param("Gate Attack", d.attack_ms, 0.05, 50.0),
            hold: linear_param("Gate Hold", d.hold_ms, 0.0, 1_000.0, " ms", 0),
            release: ms_param("Gate Release", d.release_ms, 5.0, 3_000.0),
            range: linear_param("Gate Range", d.range_db, 0.0, 90.0, " dB", 1),
            lookahead: FloatParam::new("Gate Lookahead", 0.0, FloatRange::Linear { min: 0.0, max: crate::dsp::gate::MAX_LOOKAHEAD_MS })
                .with_unit(" ms")
                .with_step_size(0.1)
                .with_value_to_string(formatters::v2s_f32_rounded(1)),
            sc_hp: hz_param("Gate Detector HP", d.sc_hp_hz, 20.0, 2_000.0),
            sc_lp: hz_param("Gate Detector LP", d.sc_lp_hz, 1_000.0, 20_000.0),
        }
    }
}

lanes!(GateLanes for GateParams { threshold, hysteresis, attack, hold, release, range, sc_hp, sc_lp });

impl Stage for Gate {
    type Params = GateParams;
    type Lanes = GateLanes;
    const INFO: StageInfo = StageInfo { name: "Gate", switch: "gate_on", with: &[("gate_lookahead", 1.0)] };

    fn is_on(p: &GateParams) -> bool {
        p.on.value()
    }
    fn prepare(&mut self, sample_rate: f32) {
        Gate::prepare(self, sample_rate);
    }
    fn reset(&mut self) {
        Gate::reset(self);
    }
    /// Only the detector and the gain: the lookahead line runs while off, so it holds no stale
    /// audio and switching on loses none.
    fn restart(&mut self) {
        self.reset_detector();
    }
    /// The detector empties (under its floor within 0.2 s), the hold runs out, the release
    /// reaches the floor: then the gate is closed exactly as a reset leaves it.
    fn settle_seconds(p: &GateParams) -> f32 {
        0.2 + (p.hold.value() + p.release.value() + p.lookahead.value()) * 0.001
    }
    fn sync_latency(&mut self, p: &GateParams) -> usize {
        let latency = self.lookahead_for(p.lookahead.value());
        if latency != self.latency() {
            self.set_lookahead(latency);
        }
        latency
    }
    #[inline]
    fn process(&mut self, chans: &mut [&mut [f32]], l: &GateLanes, steady: bool, _: &GateParams, _: &Ctx, fade: &[f32]) {
        let settings = |i: usize| GateSettings {
            threshold_db: l.threshold[i],
            hysteresis_db: l.hysteresis[i],
            attack_ms: l.attack[i],
            hold_ms: l.hold[i],
            release_ms: l.release[i],
            range_db: l.range[i],
            sc_hp_hz: l.sc_hp[i],
            sc_lp_hz: l.sc_lp[i],
        };
        block_stage!(self, chans, steady, settings, fade);
    }
    fn process_off(&mut self, chans: &mut [&mut [f32]]) {
        self.delay_only(chans);
    }
    fn publish(&mut self, bridge: &Bridge) {
        bridge.gate_gain_db.store(crate::dsp::gain_to_db(self.block_min_gain), Ordering::Relaxed);
        bridge.gate_open.store(self.block_open, Ordering::Relaxed);
        self.block_min_gain = 1.0;
        self.block_open = false;
    }
}
