//! The saved-state format: its version and the migrations from older versions.
//!
//! nice-plug stores parameters by ID and persistent fields by key. Our own layout version lives
//! in the persistent field `schema`; a state without it was written before versioning (v0).

use nice_plug::plugin::{ParamValue, PluginState};
use nice_plug::prelude::Params;

/// The layout this build writes (declared beside the `schema` field it is saved in).
pub use crate::params::STATE_SCHEMA;

/// What `migrate` did, for the log and for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Migration {
    Current,
    Upgraded {
        from: u32,
    },
    /// Written by a newer Livechain: the parameters we know are kept, the rest ignored.
    FromFuture {
        version: u32,
    },
}

/// Reads the schema of a saved state. A missing field means v0; an unreadable one is treated as
/// v0 too, because v0 is the most forgiving migration.
pub fn schema_of(state: &PluginState) -> u32 {
    state.fields.get("schema").and_then(|s| s.trim().parse::<u32>().ok()).unwrap_or(0)
}

/// One v0 parameter in v1 terms: its new ID and value (presets migrate with the same rules).
pub fn v0_param(id: &str, value: f32) -> (String, f32) {
    match id {
        "gain" => ("in_gain".into(), value),
        "drywet" => ("mix".into(), (value * 100.0).clamp(0.0, 100.0)),
        other => (other.into(), value),
    }
}

/// Brings `state` to the current layout in place.
///
/// v0 (the prototype before parameters were grouped by stage) stored the input gain under `gain`
/// and the dry/wet mix under `drywet` as a 0–1 fraction. v1 uses `in_gain` and `mix` in percent.
/// v2 added the gate, the EQ and the de-esser: a state from before has their switches written
/// off, so it sounds as it did even when loaded into an instance where they are on. v3 added the
/// feedback suppressor, written off the same way (and no fixed notches: `fb_fixed` absent); v4 the
/// vocoder, likewise; v5 the suppressor's notch count (`fb_count`), written as the eight dynamic
/// notches every earlier build had.
pub fn migrate(state: &mut PluginState) -> Migration {
    let from = schema_of(state);
    let result = if from > STATE_SCHEMA {
        Migration::FromFuture { version: from }
    } else if from == STATE_SCHEMA {
        Migration::Current
    } else {
        if from == 0 {
            for old in ["gain", "drywet"] {
                if let Some(v) = state.params.remove(old) {
                    let (id, v) = match v {
                        ParamValue::F32(f) => {
                            let (id, f) = v0_param(old, f);
                            (id, ParamValue::F32(f))
                        }
                        other => (v0_param(old, 0.0).0, other),
                    };
                    state.params.entry(id).or_insert(v);
                }
            }
        }
        if from < 2 {
            for switch in ["gate_on", "eq_on", "deess_on"] {
                state.params.entry(switch.into()).or_insert(ParamValue::Bool(false));
            }
        }
        if from < 3 {
            state.params.entry("fb_on".into()).or_insert(ParamValue::Bool(false));
        }
        if from < 4 {
            state.params.entry("voc_on".into()).or_insert(ParamValue::Bool(false));
        }
        if from < 5 {
            state.params.entry("fb_count".into()).or_insert(ParamValue::I32(8));
        }
        Migration::Upgraded { from }
    };
    state.fields.insert("schema".into(), STATE_SCHEMA.to_string());
    result
}

/// Puts every numeric parameter value of a loaded state back inside its parameter's range, and
/// returns the IDs it had to change. nice-plug stores a state's plain values as they are, so an
/// out-of-range number in a damaged or hand-edited file would otherwise reach the DSP (an AGC
/// range of −280 000 dB, an enum index past its last variant). Values in range are untouched,
/// so a good state still loads bit for bit.
pub fn clamp_to_ranges(state: &mut PluginState, params: &crate::params::LivechainParams) -> Vec<String> {
    let mut fixed = Vec::new();
    for (id, ptr, _) in params.param_map() {
        let Some(value) = state.params.get_mut(&id) else { continue };
        // SAFETY: the pointers come from `param_map` of `params`, borrowed for this call.
        let (lo, hi) = unsafe { (ptr.preview_plain(0.0), ptr.preview_plain(1.0)) };
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        match value {
            ParamValue::F32(v) if !(*v >= lo && *v <= hi) => {
                *v = if v.is_nan() { lo } else { v.clamp(lo, hi) };
                fixed.push(id);
            }
            ParamValue::I32(v) if !((*v as f32) >= lo && (*v as f32) <= hi) => {
                *v = (*v).clamp(lo.round() as i32, hi.round() as i32);
                fixed.push(id);
            }
            _ => {}
        }
    }
    fixed
}
