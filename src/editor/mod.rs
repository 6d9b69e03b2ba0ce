//! The egui editor: a header (status, presets, A/B, undo, zoom), the signal-flow strip of the
//! stages, the selected stage's picture and controls, and a meter column. It reads `Bridge` and
//! sends every user change through `Edits` as a host gesture, so the host records it as
//! automation and the editor can undo it.

pub mod controls;
mod curves;
pub mod edits;
mod graph;
mod meters;
mod presets;
mod spectrum;
pub mod stages;

use crate::analysis::probe::ProbeStatus;
use crate::analysis::spectrum::Analyzer;
use crate::bridge::Bridge;
use crate::dsp::MAX_CH;
#[cfg(test)]
use crate::params::EditorGeometry;
use crate::params::LivechainParams;
use controls::{Ctl, Layout};
use edits::{Edits, Slot};
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::*;
use nice_plug_egui::{create_egui_editor, EguiEditor, EguiEditorState, EguiNiceSettings, NiceEguiApp};
use stages::Stage;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

pub const MIN_SIZE: (f32, f32) = (480.0, 320.0);
/// The meter column's width, and in a narrow window (below `NARROW` points wide).
const METERS_WIDTH: f32 = 206.0;
const METERS_NARROW: f32 = 124.0;
const NARROW: f32 = 800.0;
/// The zoom steps offered in the editor (the host or the user may also set any value between).
pub const ZOOMS: [f32; 7] = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0];

pub fn create(
    params: Arc<LivechainParams>,
    bridge: Arc<Bridge>,
    repaint: nice_plug_egui::RepaintNotifier,
) -> Option<EguiEditor<LivechainEditor>> {
    let mut geo = params.editor_size.read().map(|g| *g).unwrap_or_default();
    // Scripted screenshots and the layout tests open the window at a given size and zoom.
    if let Some(g) = std::env::var("LIVECHAIN_EDITOR_GEOMETRY").ok().and_then(|v| parse_geometry(&v)) {
        geo = g;
    }
    let state = EguiEditorState::from_size(
        LogicalSize::new(geo.width.max(MIN_SIZE.0 as u32) as f64, geo.height.max(MIN_SIZE.1 as u32) as f64),
        geo.zoom.clamp(0.5, 2.0),
    );
    let settings =
        EguiNiceSettings::new().with_resize_hint(ResizeHint::resizable().with_min_logical_size(LogicalSize::new(MIN_SIZE.0, MIN_SIZE.1)));
    let settings = EguiNiceSettings { title: "Livechain".into(), ..settings };
    create_egui_editor(state, repaint, settings, LivechainEditor::new(params, bridge))
}

/// "WIDTHxHEIGHT@ZOOM" (e.g. "1180x860@1.5"), as `LIVECHAIN_EDITOR_GEOMETRY` gives it.
pub fn parse_geometry(v: &str) -> Option<crate::params::EditorGeometry> {
    let (size, zoom) = v.split_once('@').unwrap_or((v, "1"));
    let (w, h) = size.split_once('x')?;
    Some(crate::params::EditorGeometry { width: w.trim().parse().ok()?, height: h.trim().parse().ok()?, zoom: zoom.trim().parse().ok()? })
}

/// What the strip's tiles show live, with the meters' ballistics applied.
pub struct Live {
    pub in_peak_db: f32,
    pub out_peak_db: f32,
    pub gr_db: f32,
    pub deess_gr_db: f32,
}

pub struct LivechainEditor {
    params: Arc<LivechainParams>,
    bridge: Arc<Bridge>,
    gui: Option<GuiContext>,
    input: [meters::ChannelMeter; MAX_CH],
    output: [meters::ChannelMeter; MAX_CH],
    last_frame: Option<Instant>,
    /// Displayed gain reduction, dB (≤ 0), with a meter's release.
    gain_reduction_db: f32,
    deess_gr_db: f32,
    /// Displayed peak DSP load, falling 20 % of the deadline per second.
    load_peak: f32,
    analyzer: Analyzer,
    spectrum_rx: Option<rtrb::Consumer<f32>>,
    presets: presets::PresetsBar,
    probe: ProbeStatus,
    edits: Edits,
    selected: Stage,
    layout: Layout,
    /// Where the layout record goes (`LIVECHAIN_EDITOR_LAYOUT`), and when it was last written.
    layout_file: Option<std::path::PathBuf>,
    layout_written: Option<Instant>,
    /// Frames drawn since the editor opened (in the layout record: a test tells a stalled
    /// window from one that draws what it was given).
    frames: u64,
    /// When "Clear fixed notches" ("Clear learnt" in mode canceller) was pressed (the momentary parameter goes back to off).
    clear_pressed: Option<Instant>,
}

impl LivechainEditor {
    /// Everything the editor needs, the FFT plan and buffers included, is made here, before
    /// the window opens.
    pub fn new(params: Arc<LivechainParams>, bridge: Arc<Bridge>) -> Self {
        Self {
            bridge,
            gui: None,
            input: Default::default(),
            output: Default::default(),
            last_frame: None,
            gain_reduction_db: 0.0,
            deess_gr_db: 0.0,
            load_peak: 0.0,
            analyzer: Analyzer::new(),
            spectrum_rx: None,
            presets: presets::PresetsBar::new(),
            probe: ProbeStatus::Idle,
            edits: Edits::new(params.param_map()),
            selected: Stage::Eq,
            layout: Layout::default(),
            layout_file: std::env::var_os("LIVECHAIN_EDITOR_LAYOUT").map(Into::into),
            layout_written: None,
            frames: 0,
            clear_pressed: None,
            params,
        }
    }

    /// Pulls what the audio thread published since the last frame into the meters' ballistics.
    pub fn update_meters(&mut self, dt: f32) {
        let b = &self.bridge;
        for ch in 0..MAX_CH {
            self.input[ch].peak.update(b.input_peak.take(ch), dt);
            self.output[ch].peak.update(b.output_peak.take(ch), dt);
            self.input[ch].rms_db = crate::dsp::gain_to_db(b.input_rms.get(ch));
            self.output[ch].rms_db = crate::dsp::gain_to_db(b.output_rms.get(ch));
        }
        let gr = b.gain_reduction_db.swap(0.0, Ordering::Relaxed);
        let released = (self.gain_reduction_db + crate::analysis::peak::FALL_DB_PER_S * dt).min(0.0);
        self.gain_reduction_db = gr.min(released);
        let gr = b.deess_gr_db.swap(0.0, Ordering::Relaxed);
        let released = (self.deess_gr_db + crate::analysis::peak::FALL_DB_PER_S * dt).min(0.0);
        self.deess_gr_db = gr.min(released);
        if let Some(rx) = &mut self.spectrum_rx {
            if let Ok(chunk) = rx.read_chunk(rx.slots()) {
                let (a, c) = chunk.as_slices();
                self.analyzer.push(a);
                self.analyzer.push(c);
                chunk.commit_all();
            }
        }
        self.analyzer.update(dt);
        // The probe's correlation runs here, on the editor's thread, once the recording is in.
        if let Some(result) = b.probe.take_result() {
            let sr = b.sample_rate.load(Ordering::Relaxed) as f64;
            match &result {
                ProbeStatus::Measured { samples, spread } => nice_log!(
                    "Livechain loop probe: round trip {samples:.2} samples = {:.3} ms at {sr} Hz (two periods agree to {spread:.3})",
                    samples * 1000.0 / sr
                ),
                ProbeStatus::Failed(why) => nice_log!("Livechain loop probe: {why}"),
                _ => {}
            }
            self.probe = result;
        } else if b.probe.is_busy() {
            self.probe = ProbeStatus::Measuring;
        }
    }

    fn probe_ui(&mut self, ui: &mut egui::Ui) {
        let busy = self.bridge.probe.is_busy();
        let button = ui.add_enabled(!busy, egui::Button::new("Measure loop")).on_hover_text(
            "Plays a 1 s noise probe (an MLS at −20 dBFS) on Livechain's outputs instead of its sound and \
             finds it in its input: route the output back to the input (a loopback cable on the interface, or \
             the host's routing) to measure that loop's round trip",
        );
        self.layout.add(ui, "header:probe", button.rect);
        if button.clicked() {
            self.bridge.probe.request();
            self.probe = ProbeStatus::Measuring;
        }
        let sr = self.bridge.sample_rate.load(Ordering::Relaxed).max(1.0) as f64;
        let (text, error) = match &self.probe {
            ProbeStatus::Idle => (String::new(), false),
            ProbeStatus::Measuring => ("measuring ...".into(), false),
            ProbeStatus::Measured { samples, .. } => (format!("loop {:.2} samples = {:.2} ms", samples, samples * 1000.0 / sr), false),
            ProbeStatus::Failed(why) => (why.clone(), true),
        };
        let color = if error { egui::Color32::from_rgb(240, 120, 90) } else { egui::Color32::from_gray(200) };
        if !text.is_empty() {
            let r = ui.add(egui::Label::new(egui::RichText::new(text).color(color).size(11.5)).extend());
            self.layout.add(ui, "header:probe-result", r.rect);
        }
    }

    fn loudness(&self) -> meters::LoudnessReadings {
        let l = &self.bridge.loudness;
        meters::LoudnessReadings {
            momentary: l.momentary.load(Ordering::Relaxed),
            short_term: l.short_term.load(Ordering::Relaxed),
            integrated: l.integrated(),
            range: l.range(),
            momentary_max: l.momentary_max.load(Ordering::Relaxed),
            true_peak_db: crate::dsp::gain_to_db(l.true_peak_max()),
        }
    }

    /// The header: name, zoom, presets, A/B, undo/redo on one line, the status on the next; each
    /// wraps onto more lines when the window is narrow.
    fn header(&mut self, ui: &mut egui::Ui, gui: &GuiContext, dt: f32) {
        ui.horizontal_wrapped(|ui| {
            let r = ui.heading("Livechain");
            self.layout.add(ui, "header:title", r.rect);
            let zoom = ui.ctx().zoom_factor();
            let z = egui::ComboBox::from_id_salt("zoom")
                .width(64.0)
                .selected_text(format!("{:.0} %", zoom * 100.0))
                .show_ui(ui, |ui| {
                    for z in ZOOMS {
                        if ui.selectable_label((z - zoom).abs() < 0.01, format!("{:.0} %", z * 100.0)).clicked() {
                            ui.ctx().set_zoom_factor(z);
                        }
                    }
                })
                .response
                .on_hover_text("Zoom");
            self.layout.add(ui, "header:zoom", z.rect);
            self.presets.ui(ui, &self.params, gui, &mut self.edits, &mut self.layout);
            for (slot, name) in [(Slot::A, "A"), (Slot::B, "B")] {
                let r = ui
                    .selectable_label(self.edits.active == slot, egui::RichText::new(name).strong())
                    .on_hover_text("Two complete settings to compare: click to switch (undoable)");
                self.layout.add(ui, format!("header:{name}"), r.rect);
                if r.clicked() {
                    self.edits.switch_to(slot, gui);
                }
            }
            let copy = if self.edits.active == Slot::A { "Copy to B" } else { "Copy to A" };
            let r = ui.button(copy).on_hover_text("Copy the settings you hear to the other slot");
            self.layout.add(ui, "header:copy", r.rect);
            if r.clicked() {
                self.edits.copy_to_other();
            }
            let r = ui.add_enabled(self.edits.can_undo(), egui::Button::new("Undo")).on_hover_text("Undo the last edit (Ctrl+Z)");
            self.layout.add(ui, "header:undo", r.rect);
            if r.clicked() {
                self.edits.undo(gui);
            }
            let r = ui.add_enabled(self.edits.can_redo(), egui::Button::new("Redo")).on_hover_text("Redo (Ctrl+Shift+Z or Ctrl+Y)");
            self.layout.add(ui, "header:redo", r.rect);
            if r.clicked() {
                self.edits.redo(gui);
            }
        });
        ui.horizontal_wrapped(|ui| {
            let b = self.bridge.clone();
            let sr = b.sample_rate.load(Ordering::Relaxed);
            let lat = b.latency();
            let load = b.dsp_load.load(Ordering::Relaxed);
            let peak = b.dsp_load_peak.swap(0.0, Ordering::Relaxed);
            self.load_peak = (self.load_peak - 0.2 * dt).max(peak);
            let r = ui
                .add(egui::Label::new(egui::RichText::new(format!("DSP {:4.1} % (peak {:4.1} %)", load * 100.0, self.load_peak * 100.0)).monospace()).extend())
                .on_hover_text("Time process() takes against the block's deadline (block length ÷ sample rate)");
            self.layout.add(ui, "header:load", r.rect);
            let block = b.block.load(Ordering::Relaxed);
            let r = ui.add(egui::Label::new(format!("{:.1} kHz · block {} (max {})", sr / 1000.0, block, b.max_block.load(Ordering::Relaxed))).extend());
            self.layout.add(ui, "header:rate", r.rect);
            let r = ui
                .add(egui::Label::new(format!("latency {} ({:.2} ms)", lat, if sr > 0.0 { lat as f32 * 1000.0 / sr } else { 0.0 })).extend())
                .on_hover_text("The latency, in samples, is what Livechain reports to the host (lookaheads)");
            self.layout.add(ui, "header:latency", r.rect);
            let xruns = crate::devlog::DEVICE_XRUNS.load(Ordering::Relaxed);
            let over = b.overloads.load(Ordering::Relaxed);
            let color = if xruns + over > 0 { egui::Color32::from_rgb(240, 120, 90) } else { egui::Color32::from_gray(170) };
            let r = ui.add(egui::Label::new(egui::RichText::new(format!("xruns {xruns} · overloads {over}")).color(color)).extend()).on_hover_text(
                "xruns: dropouts the audio device reported (the standalone on JACK or ALSA). Overloads: blocks Livechain took longer to process than the audio they hold.",
            );
            self.layout.add(ui, "header:xruns", r.rect);
            let device = &crate::devlog::DEVICE;
            if device.errors() > 0 {
                let last = device.last();
                let head = if device.output_stopped() {
                    "audio stopped"
                } else if device.input_stopped() {
                    "input stopped"
                } else {
                    "device error"
                };
                // nice-plug's "Error during playback: " is what `head` already says.
                let cause = last.strip_prefix("Error during playback: ").or(last.strip_prefix("Error during capture: ")).unwrap_or(&last);
                let short: String = cause.chars().take(48).collect();
                let r = ui
                    .add(egui::Label::new(egui::RichText::new(format!("{head}: {short}")).color(egui::Color32::from_rgb(240, 90, 70))).extend())
                    .on_hover_text(format!(
                        "{} device error(s); the latest: {last}\n{}",
                        device.errors(),
                        if device.output_stopped() {
                            "The driver ended the output stream: Livechain reopens the device with these settings \
                             (up to 5 times in a row). On ALSA through PulseAudio or PipeWire this follows \
                             dropouts; a larger period, a hw: device or JACK avoids it."
                        } else {
                            "The audio keeps running."
                        }
                    ));
                self.layout.add(ui, "header:device", r.rect);
            }
            self.probe_ui(ui);
        });
    }

    /// The meter column: input and output meters, gain reduction, loudness.
    fn meters(&mut self, ui: &mut egui::Ui, compact: bool) {
        let channels = (self.bridge.channels.load(Ordering::Relaxed) as usize).clamp(1, MAX_CH);
        let r = ui.horizontal(|ui| {
            ui.set_height(if compact { 200.0 } else { 300.0 });
            ui.spacing_mut().item_spacing.x = 4.0;
            meters::meter_group(ui, "IN", &mut self.input[..channels]);
            meters::meter_group(ui, "OUT", &mut self.output[..channels]);
        });
        self.layout.add(ui, "meters:levels", r.response.rect);
        ui.separator();
        let r = ui.label("Compressor GR");
        self.layout.add(ui, "meters:gr-label", r.rect);
        let r = meters::gain_reduction_bar(ui, self.gain_reduction_db);
        self.layout.add(ui, "meters:gr", r);
        let r = ui.label("De-esser GR");
        self.layout.add(ui, "meters:deess-label", r.rect);
        let r = meters::gain_reduction_bar(ui, self.deess_gr_db);
        self.layout.add(ui, "meters:deess", r);
        ui.separator();
        let readings = self.loudness();
        let r = ui.vertical(|ui| meters::loudness_panel(ui, &readings, compact));
        self.layout.add(ui, "meters:loudness", r.response.rect);
        if r.inner {
            self.bridge.loudness.reset();
        }
    }

    /// Writes the layout record and every parameter's value (for the layout and interaction
    /// tests), at most four times a second.
    fn write_layout(&mut self, ctx: &egui::Context) {
        let Some(path) = &self.layout_file else { return };
        if self.layout_written.is_some_and(|t| t.elapsed().as_millis() < 250) {
            return;
        }
        self.layout_written = Some(Instant::now());
        let rect = |r: egui::Rect| [r.min.x, r.min.y, r.max.x, r.max.y];
        let widgets: Vec<serde_json::Value> = self
            .layout
            .widgets
            .iter()
            .map(|w| serde_json::json!({"id": w.id, "parent": w.parent, "rect": rect(w.rect), "clip": rect(w.clip), "scrolling": w.scrolling}))
            .collect();
        let map = self.params.param_map();
        // The parameter whose value is being typed, once its text field is up (a test types only
        // after a frame has shown the field: keys sent before that go nowhere).
        let typing = self.edits.typing.as_ref().and_then(|(t, _)| map.iter().find(|(_, p, _)| p == t).map(|(id, _, _)| id.clone()));
        let params: serde_json::Map<String, serde_json::Value> = map
            .into_iter()
            // SAFETY: the plugin's own parameters.
            .map(|(id, p, _)| (id, serde_json::json!(unsafe { p.unmodulated_plain_value() })))
            .collect();
        // What the meters showed in this frame (dBFS; the floor when silent), to tell the audio
        // path from the drawing when a test's screenshot disagrees.
        let levels = serde_json::json!({
            "in_peak": meters::loudest(&self.input, |m| m.peak.level_db),
            "out_peak": meters::loudest(&self.output, |m| m.peak.level_db),
            "in_rms": meters::loudest(&self.input, |m| m.rms_db),
            "out_rms": meters::loudest(&self.output, |m| m.rms_db),
        });
        let screen = ctx.content_rect();
        let doc = serde_json::json!({
            "typing": typing,
            "frames": self.frames,
            "audio_blocks": self.bridge.blocks.load(Ordering::Relaxed),
            "levels": levels,
            "window": [screen.width(), screen.height()],
            "zoom": ctx.zoom_factor(),
            "selected": self.selected.key(),
            "slot": if self.edits.active == Slot::A { "A" } else { "B" },
            "widgets": widgets,
            "params": params,
        });
        let tmp = path.with_extension("tmp");
        if std::fs::write(&tmp, doc.to_string()).is_ok() {
            let _ = std::fs::rename(&tmp, path);
        }
    }
}

impl NiceEguiApp for LivechainEditor {
    fn build(
        &mut self,
        _egui_ctx: egui::Context,
        gui_ctx: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        self.gui = Some(gui_ctx);
        // Take the spectrum queue's reading end and drop what waited in it since the last time
        // an editor was open; then tell the audio thread to start filling it.
        if self.spectrum_rx.is_none() {
            self.spectrum_rx = self.bridge.spectrum_rx.lock().ok().and_then(|mut rx| rx.take());
        }
        if let Some(rx) = &mut self.spectrum_rx {
            if let Ok(chunk) = rx.read_chunk(rx.slots()) {
                chunk.commit_all();
            }
        }
        self.analyzer.clear();
        self.presets.refresh();
        self.bridge.editor_open.store(true, Ordering::Relaxed);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        let now = Instant::now();
        let dt = self.last_frame.map_or(0.0, |t| (now - t).as_secs_f32()).min(0.5);
        self.last_frame = Some(now);
        self.frames += 1;
        self.update_meters(dt);

        let Some(gui) = self.gui.clone() else { return };
        let ctx = ui.ctx().clone();
        self.layout.widgets.clear();
        self.layout.on = self.layout_file.is_some();
        self.layout.scrolling = false;

        // Undo and redo from the keyboard, unless a text field has the keys.
        if !ctx.egui_wants_keyboard_input() {
            let (undo, redo) = ctx.input_mut(|i| {
                let redo = i.consume_key(egui::Modifiers::COMMAND | egui::Modifiers::SHIFT, egui::Key::Z)
                    || i.consume_key(egui::Modifiers::COMMAND, egui::Key::Y);
                (i.consume_key(egui::Modifiers::COMMAND, egui::Key::Z), redo)
            });
            if undo {
                self.edits.undo(&gui);
            }
            if redo {
                self.edits.redo(&gui);
            }
        }
        // "Clear fixed notches" ("Clear learnt") is a momentary button: back to off once the audio
        // thread has seen it.
        if self.clear_pressed.is_some_and(|t| t.elapsed().as_millis() > 150) {
            self.clear_pressed = None;
            edits::Sink::gesture(&gui, self.params.feedback.clear.as_ptr(), 0.0);
        }

        egui::Panel::top("header").show(ui, |ui| self.header(ui, &gui, dt));
        let narrow = ctx.content_rect().width() < NARROW;
        egui::Panel::right("meters").resizable(false).exact_size(if narrow { METERS_NARROW } else { METERS_WIDTH }).show(ui, |ui| {
            egui::ScrollArea::vertical().id_salt("meters-scroll").auto_shrink([false, false]).show(ui, |ui| {
                self.layout.scrolling = true;
                self.meters(ui, narrow);
                self.layout.scrolling = false;
            });
        });
        let live = Live {
            in_peak_db: meters::loudest(&self.input, |m| m.peak.level_db),
            out_peak_db: meters::loudest(&self.output, |m| m.peak.level_db),
            gr_db: self.gain_reduction_db,
            deess_gr_db: self.deess_gr_db,
        };
        // The strip stays in view whatever the detail area scrolls to: it is how one gets around.
        egui::Panel::top("strip").show(ui, |ui| {
            let mut ctl = Ctl { edits: &mut self.edits, sink: &gui, layout: &mut self.layout };
            ui.add_space(4.0);
            stages::strip(ui, &mut ctl, &self.params, &live, &self.bridge, &mut self.selected, narrow);
            ui.add_space(2.0);
        });
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().id_salt("detail-scroll").auto_shrink([false, false]).show(ui, |ui| {
                self.layout.scrolling = true;
                let mut ctl = Ctl { edits: &mut self.edits, sink: &gui, layout: &mut self.layout };
                stages::detail(ui, &mut ctl, &self.params, &live, &self.bridge, &self.analyzer, self.selected, &mut self.clear_pressed);
                self.layout.scrolling = false;
            });
        });
        self.write_layout(&ctx);
        ctx.request_repaint_after(std::time::Duration::from_millis(33));
    }

    fn resized(&mut self, new_size: nice_plug_egui::baseview::WindowSize) {
        if let Ok(mut geo) = self.params.editor_size.write() {
            geo.width = new_size.logical.width.round() as u32;
            geo.height = new_size.logical.height.round() as u32;
        }
    }

    fn zoom_factor_changed(&mut self, zoom_factor: f32) {
        if let Ok(mut geo) = self.params.editor_size.write() {
            geo.zoom = zoom_factor;
        }
    }

    fn editor_closed(&mut self) {
        self.bridge.editor_open.store(false, Ordering::Relaxed);
        if let (Some(rx), Ok(mut slot)) = (self.spectrum_rx.take(), self.bridge.spectrum_rx.lock()) {
            *slot = Some(rx);
        }
        self.gui = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_and_zoom_are_saved_with_the_project() {
        let a = LivechainParams::default();
        *a.editor_size.write().unwrap() = EditorGeometry { width: 1500, height: 990, zoom: 1.5 };
        let fields = a.serialize_fields();
        assert!(fields.contains_key("editor"), "{fields:?}");
        let b = LivechainParams::default();
        b.deserialize_fields(&fields);
        assert_eq!(*b.editor_size.read().unwrap(), EditorGeometry { width: 1500, height: 990, zoom: 1.5 });
    }
}
