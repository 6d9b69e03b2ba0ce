//! The saved-state format: its version and the migrations from older versions.
//!
//! nice-plug stores parameters by ID and persistent fields by key. Our own layout version lives
//! in the persistent field `schema`; a state without it was written before versioning (v0).

use nice_plug::plugin::{ParamValue, PluginState};

/// The layout this build writes.
pub const STATE_SCHEMA: u32 = 1;

/// What `migrate` did, for the log and for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Migration {
    Current,
    Upgraded { from: u32 },
    /// Written by a newer Livechain: the parameters we know are kept, the rest ignored.
    FromFuture { version: u32 },
}

/// Reads the schema of a saved state. A missing field means v0; an unreadable one is treated as
/// v0 too, because v0 is the most forgiving migration.
pub fn schema_of(state: &PluginState) -> u32 {
    state
        .fields
        .get("schema")
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(0)
}

/// Brings `state` to the current layout in place.
///
/// v0 (the prototype before parameters were grouped by stage) stored the input gain under `gain`
/// and the dry/wet mix under `drywet` as a 0–1 fraction. v1 uses `in_gain` and `mix` in percent.
pub fn migrate(state: &mut PluginState) -> Migration {
    let from = schema_of(state);
    let result = if from > STATE_SCHEMA {
        Migration::FromFuture { version: from }
    } else if from == STATE_SCHEMA {
        Migration::Current
    } else {
        if from == 0 {
            if let Some(v) = state.params.remove("gain") {
                state.params.entry("in_gain".into()).or_insert(v);
            }
            if let Some(v) = state.params.remove("drywet") {
                let pct = match v {
                    ParamValue::F32(f) => ParamValue::F32((f * 100.0).clamp(0.0, 100.0)),
                    other => other,
                };
                state.params.entry("mix".into()).or_insert(pct);
            }
        }
        Migration::Upgraded { from }
    };
    state.fields.insert("schema".into(), STATE_SCHEMA.to_string());
    result
}
