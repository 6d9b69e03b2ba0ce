//! The presets bar: the factory set and the user's preset files in one menu, "Save as" to the
//! user's preset folder, and a message line that says what happened (or what is wrong with a
//! file). Loading a preset is a host automation gesture on every parameter it changes.

use super::controls::Layout;
use super::edits::{Edits, Sink};
use crate::params::LivechainParams;
use crate::presets::{self, Preset};
use nice_plug::context::gui::GuiContext;
use std::path::PathBuf;

enum Entry {
    Factory(Preset),
    User(PathBuf, Result<Preset, String>),
}

impl Entry {
    fn label(&self) -> String {
        match self {
            Entry::Factory(p) => p.name.clone(),
            Entry::User(_, Ok(p)) => format!("★ {}", p.name),
            Entry::User(path, Err(_)) => format!("⚠ {}", path.file_name().unwrap_or_default().to_string_lossy()),
        }
    }
}

pub struct PresetsBar {
    entries: Vec<Entry>,
    current: String,
    save_name: String,
    message: Option<(String, bool)>,
    dir: Option<PathBuf>,
}

impl PresetsBar {
    pub fn new() -> Self {
        let mut bar =
            Self { entries: Vec::new(), current: "—".into(), save_name: String::new(), message: None, dir: presets::user_dir() };
        bar.refresh();
        bar
    }

    /// Rereads the user's preset folder (files may have been added by hand).
    pub fn refresh(&mut self) {
        self.entries = presets::factory().into_iter().map(Entry::Factory).collect();
        if let Some(dir) = &self.dir {
            self.entries.extend(presets::list_user(dir).into_iter().map(|(p, r)| Entry::User(p, r)));
        }
    }

    fn apply(&mut self, preset: &Preset, params: &LivechainParams, gui: &GuiContext) {
        let (targets, unknown) = preset.targets(params);
        for (ptr, norm) in targets {
            // SAFETY: the pointers come from this plugin's live parameters. Each change is a
            // begin/set/end gesture, so the host records the preset load as automation.
            if (unsafe { ptr.unmodulated_normalized_value() } - norm).abs() > f32::EPSILON {
                gui.gesture(ptr, norm);
            }
        }
        self.current = preset.name.clone();
        self.save_name = preset.name.clone();
        self.message = Some(if unknown.is_empty() {
            (format!("Loaded \"{}\"", preset.name), false)
        } else {
            (format!("Loaded \"{}\"; ignored unknown parameters: {}", preset.name, unknown.join(", ")), true)
        });
    }

    fn save(&mut self, params: &LivechainParams) {
        let Some(dir) = self.dir.clone() else {
            self.message = Some(("No preset folder: neither XDG_CONFIG_HOME nor HOME is set".into(), true));
            return;
        };
        let file = match presets::file_name(&self.save_name) {
            Ok(f) => dir.join(f),
            Err(e) => {
                self.message = Some((e, true));
                return;
            }
        };
        let preset = Preset::capture(self.save_name.trim(), params);
        self.message = Some(match preset.save(&file) {
            Ok(()) => {
                self.current = preset.name.clone();
                (format!("Saved {}", file.display()), false)
            }
            Err(e) => (e, true),
        });
        self.refresh();
    }

    /// The preset menu, name field, Save button and last message. A load is one undo step.
    pub fn ui(&mut self, ui: &mut egui::Ui, params: &LivechainParams, gui: &GuiContext, edits: &mut Edits, layout: &mut Layout) {
        let mut chosen = None;
        let combo = egui::ComboBox::from_id_salt("preset").width(150.0).selected_text(self.current.clone()).show_ui(ui, |ui| {
            for (i, e) in self.entries.iter().enumerate() {
                if ui.selectable_label(false, e.label()).clicked() {
                    chosen = Some(i);
                }
            }
        });
        layout.add(ui, "header:preset", combo.response.rect);
        if let Some(i) = chosen {
            match &self.entries[i] {
                Entry::Factory(p) | Entry::User(_, Ok(p)) => {
                    let p = p.clone();
                    edits.end(gui);
                    edits.checkpoint();
                    self.apply(&p, params, gui);
                }
                Entry::User(_, Err(e)) => self.message = Some((e.clone(), true)),
            }
        }
        let name = ui.add(egui::TextEdit::singleline(&mut self.save_name).hint_text("preset name").desired_width(100.0));
        layout.add(ui, "header:preset-name", name.rect);
        let tip = self.dir.as_ref().map_or("no preset folder".to_string(), |d| format!("Save to {}", d.display()));
        let save = ui.button("Save").on_hover_text(tip);
        layout.add(ui, "header:preset-save", save.rect);
        if save.clicked() {
            self.save(params);
        }
        if let Some((text, error)) = &self.message {
            let color = if *error { egui::Color32::from_rgb(240, 120, 90) } else { egui::Color32::from_gray(170) };
            let short: String = text.chars().take(48).collect();
            let r = ui.add(egui::Label::new(egui::RichText::new(short).color(color).size(11.0)).extend()).on_hover_text(text);
            layout.add(ui, "header:preset-message", r.rect);
        }
    }
}

impl Default for PresetsBar {
    fn default() -> Self {
        Self::new()
    }
}
