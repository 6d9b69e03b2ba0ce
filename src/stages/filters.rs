//! The high-pass and low-pass stages (`dsp::svf`), and the runner that takes them together: a
//! held 12 dB/oct pair on stereo runs as one four-lane pass (`Filter::process_pair`), bit for bit
//! the two in series.

use super::{lanes, Ctx, Runner, Slot, Stage, StageInfo};
use crate::bridge::Bridge;
use crate::dsp::svf::{Filter, Mode, Slope};
use crate::param_kinds::{hz_param, switch};
use nice_plug::prelude::*;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlopeParam {
    #[id = "12"]
    #[name = "12 dB/oct"]
    Db12,
    #[id = "24"]
    #[name = "24 dB/oct"]
    Db24,
}

impl From<SlopeParam> for Slope {
    fn from(p: SlopeParam) -> Slope {
        match p {
            SlopeParam::Db12 => Slope::Db12,
            SlopeParam::Db24 => Slope::Db24,
        }
    }
}

/// Both filters' parameters: one group in hosts, as they have always been.
#[derive(Params)]
pub struct FilterParams {
    #[id = "hp_on"]
    pub hp_on: BoolParam,
    #[id = "hp_freq"]
    pub hp_freq: FloatParam,
    #[id = "hp_slope"]
    pub hp_slope: EnumParam<SlopeParam>,
    #[id = "lp_on"]
    pub lp_on: BoolParam,
    #[id = "lp_freq"]
    pub lp_freq: FloatParam,
    #[id = "lp_slope"]
    pub lp_slope: EnumParam<SlopeParam>,
}

impl Default for FilterParams {
    fn default() -> Self {
        Self {
            hp_on: switch("High-Pass", false),
            hp_freq: hz_param("HP Frequency", 80.0, 10.0, 20_000.0),
            hp_slope: EnumParam::new("HP Slope", SlopeParam::Db12),
            lp_on: switch("Low-Pass", false),
            lp_freq: hz_param("LP Frequency", 16_000.0, 10.0, 20_000.0),
            lp_slope: EnumParam::new("LP Slope", SlopeParam::Db12),
        }
    }
}

lanes!(HighPassLanes for FilterParams { hp_freq });
lanes!(LowPassLanes for FilterParams { lp_freq });

/// The high-pass stage.
pub struct HighPass(pub Filter);
/// The low-pass stage.
pub struct LowPass(pub Filter);

impl Default for HighPass {
    fn default() -> Self {
        Self(Filter::new(Mode::HighPass))
    }
}

impl Default for LowPass {
    fn default() -> Self {
        Self(Filter::new(Mode::LowPass))
    }
}

/// The two filter stages differ only in mode and in which of the group's fields they read.
macro_rules! filter_stage {
    ($stage:ident, $lanes:ident, $name:literal, $switch:literal, $on:ident, $freq:ident, $slope:ident) => {
        impl Stage for $stage {
            type Params = FilterParams;
            type Lanes = $lanes;
            const INFO: StageInfo = StageInfo { name: $name, switch: $switch, with: &[] };

            fn is_on(p: &FilterParams) -> bool {
                p.$on.value()
            }
            fn prepare(&mut self, sample_rate: f32) {
                self.0.prepare(sample_rate);
            }
            fn reset(&mut self) {
                self.0.reset();
            }
            /// The slowest pole of the Butterworth sections (Q up to 1.31, damping 0.38) decays
            /// at 2π·f·0.38 nepers a second: 150 dB (17.3 nepers) take 7.2 / f seconds; half as
            /// much again for margin.
            fn settle_seconds(p: &FilterParams) -> f32 {
                11.0 / p.$freq.value().max(1.0)
            }
            #[inline]
            fn process(&mut self, chans: &mut [&mut [f32]], l: &$lanes, steady: bool, p: &FilterParams, _: &Ctx, fade: &[f32]) {
                self.0.process_block(chans, steady, |i| l.$freq[i], p.$slope.value().into(), fade);
            }
        }
    };
}
filter_stage!(HighPass, HighPassLanes, "High-Pass", "hp_on", hp_on, hp_freq, hp_slope);
filter_stage!(LowPass, LowPassLanes, "Low-Pass", "lp_on", lp_on, lp_freq, lp_slope);

/// The high-pass then the low-pass: two stages, one list entry, so that when both are on at
/// 12 dB/oct with their cutoffs held on stereo they run as one pass.
#[derive(Default)]
pub struct Filters {
    pub hp: Slot<HighPass>,
    pub lp: Slot<LowPass>,
}

impl Runner for Filters {
    type Params = FilterParams;
    const INFOS: &'static [StageInfo] = &[HighPass::INFO, LowPass::INFO];

    fn prepare(&mut self, sample_rate: f32) {
        self.hp.prepare(sample_rate);
        self.lp.prepare(sample_rate);
    }
    fn snap(&mut self, p: &FilterParams) {
        self.hp.snap(p);
        self.lp.snap(p);
    }
    fn reset(&mut self) {
        self.hp.reset();
        self.lp.reset();
    }
    fn sync_latency(&mut self, _: &FilterParams) -> usize {
        0
    }
    fn tail_seconds(&self, _: &FilterParams, _: &Ctx, _: f32) -> f32 {
        0.0
    }

    #[inline]
    fn chunk(&mut self, chans: &mut [&mut [f32]], p: &FilterParams, ctx: &Ctx) {
        let n = chans.first().map_or(0, |c| c.len());
        let (hp_active, hp_steady) = self.hp.begin(p, n);
        let (lp_active, lp_steady) = self.lp.begin(p, n);
        let (hp_slope, lp_slope): (Slope, Slope) = (p.hp_slope.value().into(), p.lp_slope.value().into());
        match chans {
            [left, right] if hp_active && lp_active && hp_steady && lp_steady && hp_slope == Slope::Db12 && lp_slope == Slope::Db12 => {
                let (hp, lp) = (&mut self.hp, &mut self.lp);
                hp.dsp.0.set(hp.lanes.hp_freq[0], hp_slope);
                lp.dsp.0.set(lp.lanes.lp_freq[0], lp_slope);
                Filter::process_pair(&mut hp.dsp.0, &mut lp.dsp.0, left, right, &hp.fade_lane[..n], &lp.fade_lane[..n]);
            }
            _ => {
                self.hp.run(chans, hp_active, hp_steady, p, ctx);
                self.lp.run(chans, lp_active, lp_steady, p, ctx);
            }
        }
    }

    fn publish(&mut self, _: &Bridge) {}

    fn quiet_after(&self, p: &FilterParams, ctx: &Ctx) -> f32 {
        self.hp.quiet_after(p, ctx).max(self.lp.quiet_after(p, ctx))
    }

    fn settled(&self, p: &FilterParams) -> bool {
        self.hp.settled(p) && self.lp.settled(p)
    }

    fn skip_silence(&mut self, frames: u64) {
        self.hp.dsp.skip_silence(frames);
        self.lp.dsp.skip_silence(frames);
    }
}
