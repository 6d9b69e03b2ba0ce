//! The de-esser stage (`dsp::deesser`). After the compressor, whose make-up lifts sibilance, and
//! before the delay and the reverb, which would spread it into their tails.

use super::{block_stage, lanes, Ctx, Stage, StageInfo};
use crate::bridge::Bridge;
use crate::dsp::deesser::{DeEsser, DeEsserSettings};
use crate::param_kinds::{hz_param, linear_param, switch};
use nice_plug::prelude::*;
use std::sync::atomic::Ordering;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeEssMode {
    /// Only the sibilant band is turned down.
    #[id = "split"]
    #[name = "Split band"]
    Split,
    /// The whole signal is turned down while the band is too loud.
    #[id = "wide"]
    #[name = "Wideband"]
    Wide,
}

#[derive(Params)]
pub struct DeEsserParams {
    #[id = "deess_on"]
    pub on: BoolParam,
    #[id = "deess_freq"]
    pub freq: FloatParam,
    #[id = "deess_width"]
    pub width: FloatParam,
    #[id = "deess_thresh"]
    pub threshold: FloatParam,
    #[id = "deess_range"]
    pub range: FloatParam,
    #[id = "deess_mode"]
    pub mode: EnumParam<DeEssMode>,
    #[id = "deess_listen"]
    pub listen: BoolParam,
}

impl Default for DeEsserParams {
    fn default() -> Self {
        let d = DeEsserSettings::default();
        Self {
            on: switch("De-esser", false),
            freq: hz_param("De-esser Freq", d.freq_hz, 2_000.0, 12_000.0),
            width: linear_param("De-esser Width", d.width_oct, 0.3, 4.0, " oct", 2),
            threshold: linear_param("De-esser Threshold", d.threshold_db, -40.0, 0.0, " dB", 1),
            range: linear_param("De-esser Range", d.range_db, 0.0, 24.0, " dB", 1),
            mode: EnumParam::new("De-esser Mode", DeEssMode::Split),
            listen: switch("De-esser Listen", false),
        }
    }
}

lanes!(DeEsserLanes for DeEsserParams { freq, width, threshold, range });

impl Stage for DeEsser {
    type Params = DeEsserParams;
    type Lanes = DeEsserLanes;
    const INFO: StageInfo = StageInfo { name: "De-esser", switch: "deess_on", with: &[] };

    fn is_on(p: &DeEsserParams) -> bool {
        p.on.value()
    }
    fn prepare(&mut self, sample_rate: f32) {
        DeEsser::prepare(self, sample_rate);
    }
    fn reset(&mut self) {
        DeEsser::reset(self);
    }
    /// Its detectors and its reduction release with at most 40 ms: after 18 time constants the
    /// reduction is within 1e-6 dB of none.
    fn settle_seconds(_: &DeEsserParams) -> f32 {
        18.0 * crate::dsp::deesser::RELEASE_MS * 0.001
    }
    /// Its band-pass rings for a few periods of 2 kHz at most; 20 ms is far past −150 dB.
    fn tail_seconds(_: &DeEsserParams, _: &Ctx, _: f32) -> f32 {
        0.02
    }
    #[inline]
    fn process(&mut self, chans: &mut [&mut [f32]], l: &DeEsserLanes, steady: bool, p: &DeEsserParams, _: &Ctx, fade: &[f32]) {
        let (wideband, listen) = (p.mode.value() == DeEssMode::Wide, p.listen.value());
        let settings = |i: usize| DeEsserSettings {
            freq_hz: l.freq[i],
            width_oct: l.width[i],
            threshold_db: l.threshold[i],
            range_db: l.range[i],
            wideband,
            listen,
        };
        block_stage!(self, chans, steady, settings, fade);
    }
    fn publish(&mut self, bridge: &Bridge) {
        bridge.deess_gr_db.fetch_min(self.block_gr_db, Ordering::Relaxed);
        self.block_gr_db = 0.0;
    }
}
