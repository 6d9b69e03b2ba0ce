//! Presets: the factory set and user preset files (JSON, versioned).
//!
//! A preset file is `{"format": "livechain-preset", "version": 1, "name": "...", "params":
//! {"<param id>": value}}` with plain values in the parameters' own units (dB, Hz, ms, %; 0/1 for
//! switches; the variant index for choices). Parameters a preset does not name keep their default.

use nice_plug::prelude::{ParamPtr, Params};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const PRESET_FORMAT: &str = "livechain-preset";
pub const PRESET_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Preset {
    pub format: String,
    pub version: u32,
    pub name: String,
    pub params: BTreeMap<String, f32>,
}

impl Preset {
    pub fn new(name: &str, params: &[(&str, f32)]) -> Self {
        Self {
            format: PRESET_FORMAT.into(),
            version: PRESET_VERSION,
            name: name.into(),
            params: params.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    /// Parses a preset file's text; the error says what is wrong in words a user can act on.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON ({e})"))?;
        match value.get("format").and_then(|f| f.as_str()) {
            Some(PRESET_FORMAT) => {}
            Some(other) => return Err(format!("format is \"{other}\", expected \"{PRESET_FORMAT}\"")),
            None => return Err(format!("no \"format\": \"{PRESET_FORMAT}\" field: not a Livechain preset")),
        }
        let version = value.get("version").and_then(|v| v.as_u64()).ok_or("no numeric \"version\" field")? as u32;
        if version > PRESET_VERSION {
            return Err(format!(
                "preset version {version} was written by a newer Livechain; this one reads versions 1 to {PRESET_VERSION}"
            ));
        }
        let mut preset: Preset = serde_json::from_value(value).map_err(|e| format!("malformed preset ({e})"))?;
        if let Some((id, v)) = preset.params.iter().find(|(_, v)| !v.is_finite()) {
            return Err(format!("value of \"{id}\" is {v}, not a finite number"));
        }
        if version == 0 {
            // Written before parameters were grouped by stage: the state's v0 migration applies.
            preset.params = preset.params.iter().map(|(id, &v)| crate::state::v0_param(id, v)).collect();
        }
        preset.version = PRESET_VERSION;
        Ok(preset)
    }

    /// A preset holding every parameter's current (unmodulated) value.
    pub fn capture(name: &str, params: &dyn Params) -> Self {
        let values: Vec<(String, f32)> =
            // SAFETY: the pointers come from the live parameter object, which outlives this call.
            params.param_map().into_iter().map(|(id, ptr, _)| (id, unsafe { ptr.unmodulated_plain_value() })).collect();
        Self { format: PRESET_FORMAT.into(), version: PRESET_VERSION, name: name.into(), params: values.into_iter().collect() }
    }

    /// The normalized value each parameter takes when this preset loads (parameters it does not
    /// name go to their defaults), and the IDs it names that this build does not know.
    pub fn targets(&self, params: &dyn Params) -> (Vec<(ParamPtr, f32)>, Vec<String>) {
        let map = params.param_map();
        let targets = map
            .iter()
            .map(|(id, ptr, _)| {
                // SAFETY: as above.
                let norm = unsafe {
                    match self.params.get(id) {
                        Some(&plain) => ptr.preview_normalized(plain),
                        None => ptr.default_normalized_value(),
                    }
                };
                (*ptr, norm)
            })
            .collect();
        let unknown = self.params.keys().filter(|k| !map.iter().any(|(id, _, _)| id == *k)).cloned().collect();
        (targets, unknown)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a preset always serialises")
    }

    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read preset {}: {e}", path.display()))?;
        Self::from_json(&text).map_err(|e| format!("preset {}: {e}", path.display()))
    }

    pub fn save(&self, path: &Path) -> Result<(), String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(path, self.to_json()).map_err(|e| format!("cannot write preset {}: {e}", path.display()))
    }
}

/// The factory presets, in menu order.
pub fn factory() -> Vec<Preset> {
    vec![
        Preset::new("Clean / Init", &[]),
        Preset::new(
            "Vocal Room",
            &[
                ("hp_on", 1.0),
                ("hp_freq", 90.0),
                // A gentle expander rather than a hard gate: room noise between phrases 15 dB
                // down, a held breath never chopped.
                ("gate_on", 1.0),
                ("gate_thresh", -50.0),
                ("gate_range", 15.0),
                ("gate_hold", 80.0),
                ("gate_release", 200.0),
                // Less box at 250 Hz, a little presence and air.
                ("eq_on", 1.0),
                ("eq2_freq", 250.0),
                ("eq2_gain", -2.5),
                ("eq2_q", 1.2),
                ("eq4_freq", 3_500.0),
                ("eq4_gain", 2.0),
                ("eq4_q", 0.8),
                ("eq5_freq", 10_000.0),
                ("eq5_gain", 1.5),
                ("comp_on", 1.0),
                ("comp_thresh", -20.0),
                ("comp_ratio", 3.0),
                ("comp_attack", 8.0),
                ("comp_release", 120.0),
                // A fixed make-up rather than the automatic one (+6.7 dB here, which put peaky
                // speech at +0.2 dBTP), and the safety ceiling as the last guard.
                ("comp_makeup", 4.0),
                // After the compressor's make-up, before the reverb spreads the esses.
                ("deess_on", 1.0),
                ("ceiling_on", 1.0),
                ("ceiling", -1.5),
                ("rev_on", 1.0),
                ("rev_size", 35.0),
                ("rev_decay", 0.9),
                ("rev_predelay", 15.0),
                ("rev_damping", 50.0),
                ("rev_mix", 18.0),
            ],
        ),
        Preset::new("Slapback", &[("dly_on", 1.0), ("dly_time", 110.0), ("dly_feedback", 10.0), ("dly_tone", 4_500.0), ("dly_mix", 35.0)]),
        Preset::new(
            "Guitar Ambience",
            &[
                ("hp_on", 1.0),
                ("hp_freq", 70.0),
                ("dly_on", 1.0),
                ("dly_sync", 1.0),
                ("dly_note", 3.0),
                ("dly_feel", 1.0),
                ("dly_time", 375.0),
                ("dly_feedback", 35.0),
                ("dly_pingpong", 1.0),
                ("dly_tone", 3_500.0),
                ("dly_mix", 22.0),
                ("rev_on", 1.0),
                ("rev_size", 70.0),
                ("rev_decay", 2.8),
                ("rev_mod", 45.0),
                ("rev_mix", 25.0),
            ],
        ),
        Preset::new(
            "Podcast Leveler",
            &[
                ("hp_on", 1.0),
                ("hp_freq", 80.0),
                ("hp_slope", 1.0),
                ("gate_on", 1.0),
                ("gate_thresh", -55.0),
                ("gate_range", 12.0),
                ("gate_hold", 120.0),
                ("agc_on", 1.0),
                ("agc_target", -16.0),
                ("agc_range", 15.0),
                ("agc_speed", 3.0),
                ("comp_on", 1.0),
                ("comp_thresh", -14.0),
                ("comp_ratio", 4.0),
                ("comp_knee", 8.0),
                ("comp_attack", 5.0),
                ("comp_release", 200.0),
                ("comp_lookahead", 2.0),
                ("deess_on", 1.0),
                ("ceiling_on", 1.0),
                ("ceiling", -1.0),
            ],
        ),
        Preset::new(
            "Drum Room",
            &[
                ("comp_on", 1.0),
                ("comp_thresh", -16.0),
                ("comp_ratio", 4.0),
                ("comp_attack", 20.0),
                ("comp_release", 80.0),
                ("comp_knee", 3.0),
                ("rev_on", 1.0),
                ("rev_size", 25.0),
                ("rev_decay", 0.6),
                ("rev_early", 70.0),
                ("rev_damping", 30.0),
                ("rev_mix", 30.0),
            ],
        ),
        Preset::new(
            "Long Hall",
            &[
                ("rev_on", 1.0),
                ("rev_size", 95.0),
                ("rev_decay", 5.5),
                ("rev_predelay", 40.0),
                ("rev_damping", 45.0),
                ("rev_mod", 35.0),
                ("rev_mix", 35.0),
                ("lp_on", 1.0),
                ("lp_freq", 14_000.0),
            ],
        ),
        Preset::new(
            "Robot Choir",
            &[
                ("hp_on", 1.0),
                ("hp_freq", 90.0),
                // A levelled voice gives the bands steady envelopes.
                ("comp_on", 1.0),
                ("comp_thresh", -22.0),
                ("comp_ratio", 3.0),
                ("comp_attack", 5.0),
                ("comp_release", 120.0),
                // The built-in saw on a held C minor chord (C3): MIDI notes take over while held.
                ("voc_on", 1.0),
                ("voc_bands", 20.0),
                ("voc_chord", 4.0),
                ("voc_root", 48.0),
                ("voc_attack", 1.5),
                ("voc_release", 40.0),
                ("voc_unvoiced", 100.0),
                ("voc_level", 4.0),
                ("rev_on", 1.0),
                ("rev_size", 60.0),
                ("rev_decay", 1.8),
                ("rev_mix", 22.0),
                ("ceiling_on", 1.0),
                ("ceiling", -1.0),
            ],
        ),
        Preset::new(
            "Tape Echo",
            &[
                ("dly_on", 1.0),
                ("dly_time", 320.0),
                ("dly_feedback", 55.0),
                ("dly_tone", 2_200.0),
                ("dly_mix", 30.0),
                ("lp_on", 1.0),
                ("lp_freq", 9_000.0),
                ("comp_on", 1.0),
                ("comp_thresh", -10.0),
                ("comp_ratio", 2.0),
            ],
        ),
    ]
}

/// Finds a factory preset by name, ignoring case and punctuation ("tape-echo" finds "Tape Echo").
pub fn find_factory(name: &str) -> Option<Preset> {
    let key = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase();
    factory().into_iter().find(|p| key(&p.name) == key(name) || key(&p.name).starts_with(&key(name)) && !key(name).is_empty())
}

/// Where user presets live: `$XDG_CONFIG_HOME/livechain/presets` (or `~/.config/...`).
pub fn user_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("livechain").join("presets"))
}

/// A file name for a preset called `name`: letters, digits, spaces, '-' and '_' kept.
pub fn file_name(name: &str) -> Result<String, String> {
    let clean: String = name.trim().chars().filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_')).collect();
    if clean.trim().is_empty() {
        return Err(format!("\"{name}\" is not a usable preset name: use letters, digits, spaces, '-' or '_'"));
    }
    Ok(format!("{}.json", clean.trim()))
}

/// Every `.json` file in `dir`, read as a preset, sorted by name: each either the preset or the
/// reason it cannot be used, so a bad file is shown with its problem instead of disappearing.
pub fn list_user(dir: &Path) -> Vec<(PathBuf, Result<Preset, String>)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<(PathBuf, Result<Preset, String>)> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let preset = Preset::load(&p);
            (p, preset)
        })
        .collect();
    out.sort_by_key(|(p, _)| p.to_string_lossy().to_lowercase());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::LivechainParams;

    fn set(_params: &LivechainParams, targets: &[(ParamPtr, f32)]) {
        for (ptr, norm) in targets {
            // SAFETY: the pointers belong to `params`.
            unsafe {
                ptr._internal_set_normalized_value(*norm);
            }
        }
    }

    /// Equal to float rounding: values go through the parameters' normalized (skewed) ranges.
    fn same(a: &BTreeMap<String, f32>, b: &BTreeMap<String, f32>) {
        assert_eq!(a.len(), b.len());
        for (id, v) in a {
            assert!((v - b[id]).abs() <= 1e-5 * v.abs().max(1.0), "{id}: {v} vs {}", b[id]);
        }
    }

    #[test]
    fn capture_then_load_restores_every_value() {
        let a = LivechainParams::default();
        let mut b_preset = None;
        for preset in factory() {
            let (targets, unknown) = preset.targets(&a);
            assert!(unknown.is_empty(), "{}: unknown IDs {unknown:?}", preset.name);
            set(&a, &targets);
            let captured = Preset::capture(&preset.name, &a);
            for (id, v) in &preset.params {
                let got = captured.params[id];
                assert!((got - v).abs() <= 1e-3 * v.abs().max(1.0), "{}: {id} = {got}, preset says {v}", preset.name);
            }
            b_preset = Some(captured);
        }
        // Through the file format and into a fresh instance: the same values.
        let text = b_preset.unwrap().to_json();
        let back = Preset::from_json(&text).unwrap();
        let fresh = LivechainParams::default();
        set(&fresh, &back.targets(&fresh).0);
        same(&Preset::capture(&back.name, &fresh).params, &back.params);
    }

    #[test]
    fn loading_a_preset_returns_unnamed_parameters_to_defaults() {
        let p = LivechainParams::default();
        set(&p, &find_factory("long hall").unwrap().targets(&p).0);
        set(&p, &find_factory("clean").unwrap().targets(&p).0);
        let default = Preset::capture("d", &LivechainParams::default());
        same(&Preset::capture("d", &p).params, &default.params);
    }

    #[test]
    fn bad_preset_files_say_what_is_wrong() {
        for (text, want) in [
            ("{", "not valid JSON"),
            (r#"{"format": "x", "version": 1}"#, "expected \"livechain-preset\""),
            (r#"{"version": 1}"#, "not a Livechain preset"),
            (r#"{"format": "livechain-preset", "version": 9, "name": "n", "params": {}}"#, "newer Livechain"),
            (r#"{"format": "livechain-preset", "version": 1, "name": "n", "params": {"in_gain": "loud"}}"#, "malformed"),
        ] {
            let err = Preset::from_json(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
        let dir = std::env::temp_dir().join(format!("livechain-presets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("broken.json"), "{ nope").unwrap();
        find_factory("slapback").unwrap().save(&dir.join(file_name("My Slap!").unwrap())).unwrap();
        let listed = list_user(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed[0].1.as_ref().unwrap_err().contains("broken.json"), "{:?}", listed[0].1);
        assert_eq!(listed[1].0.file_name().unwrap(), "My Slap.json");
        assert!(file_name("  /// ").is_err());
    }

    #[test]
    fn v0_presets_migrate_like_v0_states() {
        let p =
            Preset::from_json(r#"{"format": "livechain-preset", "version": 0, "name": "old", "params": {"gain": 3.0, "drywet": 0.25}}"#)
                .unwrap();
        assert_eq!(p.params.get("in_gain"), Some(&3.0));
        assert_eq!(p.params.get("mix"), Some(&25.0));
        assert_eq!(p.version, PRESET_VERSION);
    }
}
