//! Presets: the factory set and user preset files (JSON, versioned).
//!
//! A preset file is `{"format": "livechain-preset", "version": 1, "name": "...", "params":
//! {"<param id>": value}}` with plain values in the parameters' own units (dB, Hz, ms, %; 0/1 for
//! switches; the variant index for choices). Parameters a preset does not name keep their default.

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
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON ({e})"))?;
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
        let preset: Preset = serde_json::from_value(value).map_err(|e| format!("malformed preset ({e})"))?;
        if let Some((id, v)) = preset.params.iter().find(|(_, v)| !v.is_finite()) {
            return Err(format!("value of \"{id}\" is {v}, not a finite number"));
        }
        Ok(preset)
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
                ("hp_on", 1.0), ("hp_freq", 90.0), ("comp_on", 1.0), ("comp_thresh", -20.0), ("comp_ratio", 3.0),
                ("comp_attack", 8.0), ("comp_release", 120.0), ("comp_automakeup", 1.0), ("rev_on", 1.0),
                ("rev_size", 35.0), ("rev_decay", 0.9), ("rev_predelay", 15.0), ("rev_damping", 50.0), ("rev_mix", 18.0),
            ],
        ),
        Preset::new(
            "Slapback",
            &[("dly_on", 1.0), ("dly_time", 110.0), ("dly_feedback", 10.0), ("dly_tone", 4_500.0), ("dly_mix", 35.0)],
        ),
        Preset::new(
            "Guitar Ambience",
            &[
                ("hp_on", 1.0), ("hp_freq", 70.0), ("dly_on", 1.0), ("dly_sync", 1.0), ("dly_note", 3.0), ("dly_feel", 1.0),
                ("dly_time", 375.0), ("dly_feedback", 35.0), ("dly_pingpong", 1.0), ("dly_tone", 3_500.0), ("dly_mix", 22.0),
                ("rev_on", 1.0), ("rev_size", 70.0), ("rev_decay", 2.8), ("rev_mod", 45.0), ("rev_mix", 25.0),
            ],
        ),
        Preset::new(
            "Podcast Leveler",
            &[
                ("hp_on", 1.0), ("hp_freq", 80.0), ("hp_slope", 1.0), ("agc_on", 1.0), ("agc_target", -16.0),
                ("agc_range", 15.0), ("agc_speed", 3.0), ("comp_on", 1.0), ("comp_thresh", -14.0), ("comp_ratio", 4.0),
                ("comp_knee", 8.0), ("comp_attack", 5.0), ("comp_release", 200.0), ("comp_lookahead", 2.0),
                ("ceiling_on", 1.0), ("ceiling", -1.0),
            ],
        ),
        Preset::new(
            "Drum Room",
            &[
                ("comp_on", 1.0), ("comp_thresh", -16.0), ("comp_ratio", 4.0), ("comp_attack", 20.0), ("comp_release", 80.0),
                ("comp_knee", 3.0), ("rev_on", 1.0), ("rev_size", 25.0), ("rev_decay", 0.6), ("rev_early", 70.0),
                ("rev_damping", 30.0), ("rev_mix", 30.0),
            ],
        ),
        Preset::new(
            "Long Hall",
            &[
                ("rev_on", 1.0), ("rev_size", 95.0), ("rev_decay", 5.5), ("rev_predelay", 40.0), ("rev_damping", 45.0),
                ("rev_mod", 35.0), ("rev_mix", 35.0), ("lp_on", 1.0), ("lp_freq", 14_000.0),
            ],
        ),
        Preset::new(
            "Tape Echo",
            &[
                ("dly_on", 1.0), ("dly_time", 320.0), ("dly_feedback", 55.0), ("dly_tone", 2_200.0), ("dly_mix", 30.0),
                ("lp_on", 1.0), ("lp_freq", 9_000.0), ("comp_on", 1.0), ("comp_thresh", -10.0), ("comp_ratio", 2.0),
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
