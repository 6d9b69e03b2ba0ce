//! The egui editor: every control grouped by stage, and the meters. It reads `Bridge` and sends
//! every user change through `ParamSetter`, so the host records it as automation.

mod curves;
mod meters;
mod presets;
mod spectrum;

use crate::analysis::probe::ProbeStatus;
use crate::analysis::spectrum::Analyzer;
use crate::bridge::Bridge;
use crate::dsp::MAX_CH;
#[cfg(test)]
use crate::params::EditorGeometry;
use crate::params::LivechainParams;
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{create_egui_editor, EguiEditor, EguiEditorState, EguiNiceSettings, NiceEguiApp};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

pub const MIN_SIZE: (f32, f32) = (480.0, 320.0);
/// The zoom steps offered in the editor (the host or the user may also set any value between).
const SPECTRUM_HEIGHT: f32 = 150.0;
pub const ZOOMS: [f32; 7] = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0];

pub fn create(
    params: Arc<LivechainParams>,
    bridge: Arc<Bridge>,
    repaint: nice_plug_egui::RepaintNotifier,
) -> Option<EguiEditor<LivechainEditor>> {
    let geo = params.editor_size.read().map(|g| *g).unwrap_or_default();
    let state = EguiEditorState::from_size(
        LogicalSize::new(geo.width.max(MIN_SIZE.0 as u32) as f64, geo.height.max(MIN_SIZE.1 as u32) as f64),
        geo.zoom.clamp(0.5, 2.0),
    );
    let settings =
        EguiNiceSettings::new().with_resize_hint(ResizeHint::resizable().with_min_logical_size(LogicalSize::new(MIN_SIZE.0, MIN_SIZE.1)));
    let settings = EguiNiceSettings { title: "Livechain".into(), ..settings };
    create_egui_editor(state, repaint, settings, LivechainEditor::new(params, bridge))
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
}

impl LivechainEditor {
    /// Everything the editor needs, the FFT plan and buffers included, is made here, before
    /// the window opens.
    pub fn new(params: Arc<LivechainParams>, bridge: Arc<Bridge>) -> Self {
        Self {
            params,
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
        ui.label(egui::RichText::new(text).color(color).size(11.5));
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

    fn header(&mut self, ui: &mut egui::Ui, gui: &GuiContext, dt: f32) {
        ui.horizontal(|ui| {
            ui.heading("Livechain");
            ui.separator();
            let zoom = ui.ctx().zoom_factor();
            egui::ComboBox::from_id_salt("zoom")
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
            ui.separator();
            self.presets.ui(ui, &self.params, gui);
        });
        ui.horizontal(|ui| {
            let b = &self.bridge;
            let sr = b.sample_rate.load(Ordering::Relaxed);
            let lat = b.latency();
            let load = b.dsp_load.load(Ordering::Relaxed);
            let peak = b.dsp_load_peak.swap(0.0, Ordering::Relaxed);
            self.load_peak = (self.load_peak - 0.2 * dt).max(peak);
            ui.label(egui::RichText::new(format!("DSP {:5.1} %  peak {:5.1} %", load * 100.0, self.load_peak * 100.0)).monospace())
                .on_hover_text("Time process() takes against the block's deadline (block length ÷ sample rate)");
            ui.separator();
            let block = b.block.load(Ordering::Relaxed);
            ui.label(format!(
                "{:.1} kHz · block {} (max {}) · latency {} samples ({:.2} ms)",
                sr / 1000.0,
                block,
                b.max_block.load(Ordering::Relaxed),
                lat,
                if sr > 0.0 { lat as f32 * 1000.0 / sr } else { 0.0 }
            ))
            .on_hover_text("The latency is what Livechain reports to the host (the compressor's lookahead)");
            ui.separator();
            let xruns = crate::devlog::DEVICE_XRUNS.load(Ordering::Relaxed);
            let over = b.overloads.load(Ordering::Relaxed);
            let color = if xruns + over > 0 { egui::Color32::from_rgb(240, 120, 90) } else { egui::Color32::from_gray(170) };
            ui.label(egui::RichText::new(format!("xruns {xruns} · overloads {over}")).color(color)).on_hover_text(
                "xruns: dropouts the audio device reported (the standalone on JACK or ALSA). Overloads: blocks Livechain took longer to process than the audio they hold.",
            );
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
                let short: String = cause.chars().take(56).collect();
                ui.label(egui::RichText::new(format!("{head}: {short}")).color(egui::Color32::from_rgb(240, 90, 70)))
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
            }
            ui.separator();
            self.probe_ui(ui);
        });
    }

    fn stages(&self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let p = &self.params;
        let sr = self.bridge.sample_rate.load(Ordering::Relaxed);
        // Three columns in chain order: input and filters (and the output stage at the end of
        // the chain, under them), dynamics, delay and reverb.
        ui.columns(3, |cols| {
            stage(&mut cols[0], "Input", |ui| row(ui, &p.input.gain, setter), |_| {});
            let f = &p.filters;
            stage(
                &mut cols[0],
                "Filters",
                |ui| {
                    for r in [&f.hp_on as &dyn AnyParam, &f.hp_freq, &f.hp_slope, &f.lp_on, &f.lp_freq, &f.lp_slope] {
                        r.row(ui, setter);
                    }
                },
                |ui| {
                    let curve = curves::FilterCurve {
                        hp: f.hp_on.value().then(|| (f.hp_freq.value(), f.hp_slope.value().into())),
                        lp: f.lp_on.value().then(|| (f.lp_freq.value(), f.lp_slope.value().into())),
                        sample_rate: if sr > 0.0 { sr } else { 48_000.0 },
                    };
                    curves::draw_filters(ui, &curve, egui::vec2(ui.available_width().max(40.0), 70.0));
                },
            );
            let g = &p.gate;
            stage(
                &mut cols[0],
                "Gate",
                |ui| {
                    for r in [
                        &g.on as &dyn AnyParam,
                        &g.threshold,
                        &g.hysteresis,
                        &g.attack,
                        &g.hold,
                        &g.release,
                        &g.range,
                        &g.lookahead,
                        &g.sc_hp,
                        &g.sc_lp,
                    ] {
                        r.row(ui, setter);
                    }
                },
                |ui| {
                    let open = self.bridge.gate_open.load(Ordering::Relaxed);
                    curves::gate_light(ui, open && g.on.value(), self.bridge.gate_gain_db.load(Ordering::Relaxed));
                },
            );
            let e = &p.eq;
            stage(
                &mut cols[1],
                "EQ",
                |ui| {
                    for r in [
                        &e.on as &dyn AnyParam,
                        &e.ls_on,
                        &e.ls_freq,
                        &e.ls_gain,
                        &e.ls_q,
                        &e.b1_on,
                        &e.b1_freq,
                        &e.b1_gain,
                        &e.b1_q,
                        &e.b2_on,
                        &e.b2_freq,
                        &e.b2_gain,
                        &e.b2_q,
                        &e.b3_on,
                        &e.b3_freq,
                        &e.b3_gain,
                        &e.b3_q,
                        &e.hs_on,
                        &e.hs_freq,
                        &e.hs_gain,
                        &e.hs_q,
                    ] {
                        r.row(ui, setter);
                    }
                },
                |ui| curves::draw_eq(ui, &e.settings(), e.on.value(), egui::vec2(ui.available_width().max(40.0), 80.0)),
            );
            let (a, d) = (&p.agc, &p.comp);
            stage(
                &mut cols[1],
                "Dynamics",
                |ui| {
                    for r in [
                        &a.on as &dyn AnyParam,
                        &a.target,
                        &a.range,
                        &a.speed,
                        &a.gate,
                        &d.on,
                        &d.threshold,
                        &d.ratio,
                        &d.knee,
                        &d.attack,
                        &d.release,
                        &d.makeup,
                        &d.auto_makeup,
                        &d.lookahead,
                    ] {
                        r.row(ui, setter);
                    }
                    ui.label("Gain reduction");
                    meters::gain_reduction_bar(ui, self.gain_reduction_db);
                    ui.end_row();
                },
                |ui| {
                    let input = self.bridge.comp_input_db.load(Ordering::Relaxed);
                    let (t, r, k) = (d.threshold.value(), d.ratio.value(), d.knee.value());
                    ui.horizontal(|ui| {
                        curves::draw_compressor(ui, t, r, k, input, d.on.value(), 110.0);
                        ui.label(egui::RichText::new("in vs out\n−60 to 0 dB").size(10.0).color(egui::Color32::GRAY));
                    });
                },
            );
            let ds = &p.deess;
            stage(
                &mut cols[1],
                "De-esser",
                |ui| {
                    for r in [&ds.on as &dyn AnyParam, &ds.freq, &ds.width, &ds.threshold, &ds.range, &ds.mode, &ds.listen] {
                        r.row(ui, setter);
                    }
                    ui.label("Reduction");
                    meters::gain_reduction_bar(ui, self.deess_gr_db);
                    ui.end_row();
                },
                |_| {},
            );
            let vc = &p.vocoder;
            stage(
                &mut cols[1],
                "Vocoder",
                |ui| {
                    for r in [
                        &vc.on as &dyn AnyParam,
                        &vc.carrier,
                        &vc.wave,
                        &vc.hold,
                        &vc.root,
                        &vc.chord,
                        &vc.bands,
                        &vc.lo,
                        &vc.hi,
                        &vc.width,
                        &vc.attack,
                        &vc.release,
                        &vc.shift,
                        &vc.unvoiced,
                        &vc.noise,
                        &vc.level,
                        &vc.mix,
                    ] {
                        r.row(ui, setter);
                    }
                },
                |ui| vocoder_bands(ui, &self.bridge, vc.on.value()),
            );
            // The feedback suppressor sits right after the filters in the chain; its panel heads
            // the third column, where there is room for its notch list.
            let fb = &p.feedback;
            stage(
                &mut cols[2],
                "Feedback Suppressor",
                |ui| {
                    for r in
                        [&fb.on as &dyn AnyParam, &fb.mode, &fb.sensitivity, &fb.max_depth, &fb.width, &fb.release, &fb.learn, &fb.clear]
                    {
                        r.row(ui, setter);
                    }
                },
                |ui| {
                    let mut notches = self.bridge.fb_notches();
                    notches.sort_by(|a, b| a.0.total_cmp(&b.0));
                    let text = if notches.is_empty() {
                        "no notches".to_string()
                    } else {
                        notches
                            .iter()
                            .map(|&(f, d, fixed)| format!("{f:.0} Hz −{d:.0} dB{}", if fixed { " (fixed)" } else { "" }))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    ui.label(egui::RichText::new(text).size(10.0).color(egui::Color32::GRAY));
                },
            );
            let dl = &p.delay;
            stage(
                &mut cols[2],
                "Delay",
                |ui| {
                    for r in
                        [&dl.on as &dyn AnyParam, &dl.time, &dl.sync, &dl.note, &dl.feel, &dl.feedback, &dl.tone, &dl.ping_pong, &dl.mix]
                    {
                        r.row(ui, setter);
                    }
                },
                |_| {},
            );
            let rv = &p.reverb;
            stage(
                &mut cols[2],
                "Reverb",
                |ui| {
                    for q in [
                        &rv.on as &dyn AnyParam,
                        &rv.predelay,
                        &rv.size,
                        &rv.decay,
                        &rv.damping,
                        &rv.modulation,
                        &rv.width,
                        &rv.early,
                        &rv.mix,
                    ] {
                        q.row(ui, setter);
                    }
                },
                |_| {},
            );
            let o = &p.output;
            stage(
                &mut cols[0],
                "Output",
                |ui| {
                    for r in [&o.gain as &dyn AnyParam, &o.mix, &o.ceiling_on, &o.ceiling, &o.bypass] {
                        r.row(ui, setter);
                    }
                },
                |_| {},
            );
        });
    }
}

/// The vocoder's band levels as bars from −60 to 0 dBFS (low bands left), with the notes held
/// and how unvoiced the voice is.
fn vocoder_bands(ui: &mut egui::Ui, bridge: &Bridge, on: bool) {
    let count = (bridge.voc_bands.load(Ordering::Relaxed) as usize).clamp(1, bridge.voc_levels.len());
    let size = egui::vec2(ui.available_width().max(40.0), 48.0);
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, egui::Color32::from_gray(24));
    let w = rect.width() / count as f32;
    for (k, level) in bridge.voc_levels.iter().take(count).enumerate() {
        let db = crate::dsp::gain_to_db(level.load(Ordering::Relaxed));
        let h = if on { ((db + 60.0) / 60.0).clamp(0.0, 1.0) * rect.height() } else { 0.0 };
        let x = rect.left() + k as f32 * w;
        let bar = egui::Rect::from_min_max(egui::pos2(x + 0.5, rect.bottom() - h), egui::pos2(x + w - 0.5, rect.bottom()));
        painter.rect_filled(bar, 0.0, egui::Color32::from_rgb(90, 170, 230));
    }
    let notes = bridge.voc_notes.load(Ordering::Relaxed);
    let unvoiced = bridge.voc_unvoiced.load(Ordering::Relaxed);
    let text = format!("{count} bands · {notes} MIDI notes held · unvoiced {:.0} %", 100.0 * unvoiced);
    ui.label(egui::RichText::new(text).size(10.0).color(egui::Color32::GRAY));
}

/// A titled group for one stage of the chain: its controls in a two-column grid, then `below`
/// (a curve) under them.
fn stage(ui: &mut egui::Ui, title: &str, grid: impl FnOnce(&mut egui::Ui), below: impl FnOnce(&mut egui::Ui)) {
    ui.group(|ui| {
        ui.set_width(ui.available_width());
        ui.vertical(|ui| {
            ui.label(egui::RichText::new(title).strong());
            egui::Grid::new(title).num_columns(2).spacing([12.0, 4.0]).show(ui, grid);
            below(ui);
        });
    });
}

/// Any parameter type, so a stage's controls can be listed in one array.
trait AnyParam {
    fn row(&self, ui: &mut egui::Ui, setter: &ParamSetter);
}

impl<P: Param> AnyParam for P {
    fn row(&self, ui: &mut egui::Ui, setter: &ParamSetter) {
        row(ui, self, setter);
    }
}

/// One parameter: its name, then a slider that drags (shift for fine), double-clicks to its
/// default and takes a typed value on click; every change is a host automation gesture.
fn row<P: Param>(ui: &mut egui::Ui, param: &P, setter: &ParamSetter) {
    ui.label(param.name());
    ui.add(ParamSlider::for_param(param, setter).with_width(130.0));
    ui.end_row();
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
        self.update_meters(dt);

        let Some(gui) = self.gui.clone() else { return };
        let setter = gui.param_setter();
        let channels = (self.bridge.channels.load(Ordering::Relaxed) as usize).clamp(1, MAX_CH);

        egui::Panel::top("header").show(ui, |ui| self.header(ui, &gui, dt));
        egui::Panel::left("in_meters").resizable(false).exact_size(74.0).show(ui, |ui| {
            meters::meter_group(ui, "IN", &mut self.input[..channels]);
        });
        egui::Panel::right("out_meters").resizable(false).exact_size(74.0).show(ui, |ui| {
            meters::meter_group(ui, "OUT", &mut self.output[..channels]);
        });
        egui::Panel::bottom("analysis").resizable(false).exact_size(SPECTRUM_HEIGHT + 36.0).show(ui, |ui| {
            ui.horizontal(|ui| {
                let sr = self.bridge.sample_rate.load(Ordering::Relaxed);
                let w = (ui.available_width() - 250.0).max(200.0);
                ui.vertical(|ui| {
                    ui.label(egui::RichText::new("Output spectrum").strong());
                    spectrum::draw(ui, &self.analyzer, sr, egui::vec2(w, SPECTRUM_HEIGHT));
                });
                ui.separator();
                ui.vertical(|ui| {
                    if meters::loudness_panel(ui, &self.loudness()) {
                        self.bridge.loudness.reset();
                    }
                });
            });
        });
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| self.stages(ui, &setter));
        });
        ui.ctx().request_repaint_after(std::time::Duration::from_millis(33));
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
