//! The egui editor: every control grouped by stage, and the meters. It reads `Bridge` and sends
//! every user change through `ParamSetter`, so the host records it as automation.

mod meters;

use crate::analysis::peak::{PeakBallistics, MAX_CHANNELS};
use crate::bridge::Bridge;
use crate::params::LivechainParams;
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{create_egui_editor, EguiEditor, EguiEditorState, EguiNiceSettings, NiceEguiApp};
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::Instant;

/// The editor's size and zoom, saved with the project.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct EditorGeometry {
    pub width: u32,
    pub height: u32,
    pub zoom: f32,
}

impl Default for EditorGeometry {
    fn default() -> Self {
        Self { width: 1180, height: 720, zoom: 1.0 }
    }
}

pub type EditorSize = RwLock<EditorGeometry>;

pub const MIN_SIZE: (f32, f32) = (480.0, 320.0);

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
    let settings = EguiNiceSettings::new().with_resize_hint(
        ResizeHint::resizable().with_min_logical_size(LogicalSize::new(MIN_SIZE.0, MIN_SIZE.1)),
    );
    let settings = EguiNiceSettings { title: "Livechain".into(), ..settings };
    create_egui_editor(state, repaint, settings, LivechainEditor::new(params, bridge))
}

pub struct LivechainEditor {
    params: Arc<LivechainParams>,
    bridge: Arc<Bridge>,
    gui: Option<GuiContext>,
    input: [PeakBallistics; MAX_CHANNELS],
    output: [PeakBallistics; MAX_CHANNELS],
    last_frame: Option<Instant>,
    /// Displayed gain reduction, dB (≤ 0), with a meter's release.
    gain_reduction_db: f32,
    /// Displayed peak DSP load, falling 20 % of the deadline per second.
    load_peak: f32,
}

impl LivechainEditor {
    pub fn new(params: Arc<LivechainParams>, bridge: Arc<Bridge>) -> Self {
        Self {
            params,
            bridge,
            gui: None,
            input: Default::default(),
            output: Default::default(),
            last_frame: None,
            gain_reduction_db: 0.0,
            load_peak: 0.0,
        }
    }

    /// Pulls the peaks the audio thread published since the last frame into the ballistics.
    pub fn update_meters(&mut self, dt: f32) {
        for ch in 0..MAX_CHANNELS {
            self.input[ch].update(self.bridge.input_peak.take(ch), dt);
            self.output[ch].update(self.bridge.output_peak.take(ch), dt);
        }
        let gr = self.bridge.gain_reduction_db.swap(0.0, Ordering::Relaxed);
        let released = (self.gain_reduction_db + crate::analysis::peak::FALL_DB_PER_S * dt).min(0.0);
        self.gain_reduction_db = gr.min(released);
    }

    pub fn input_meters(&self) -> &[PeakBallistics; MAX_CHANNELS] {
        &self.input
    }

    pub fn output_meters(&self) -> &[PeakBallistics; MAX_CHANNELS] {
        &self.output
    }
}

/// A titled group for one stage of the chain, its controls in a two-column grid.
fn stage(ui: &mut egui::Ui, title: &str, add: impl FnOnce(&mut egui::Ui)) {
    ui.group(|ui| {
        ui.set_width(ui.available_width());
        ui.vertical(|ui| {
            ui.label(egui::RichText::new(title).strong());
            egui::Grid::new(title).num_columns(2).spacing([12.0, 4.0]).show(ui, add);
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
        let channels = (self.bridge.channels.load(Ordering::Relaxed) as usize).clamp(1, MAX_CHANNELS);

        egui::Panel::top("header").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading("Livechain");
                ui.separator();
                let sr = self.bridge.sample_rate.load(Ordering::Relaxed);
                let lat = self.bridge.latency();
                let load = self.bridge.dsp_load.load(Ordering::Relaxed);
                let peak = self.bridge.dsp_load_peak.swap(0.0, Ordering::Relaxed);
                self.load_peak = (self.load_peak - 0.2 * dt).max(peak);
                ui.label(format!("DSP {:5.1} % (peak {:5.1} %)", load * 100.0, self.load_peak * 100.0))
                    .on_hover_text("Time process() takes against the block's deadline");
                ui.separator();
                ui.label(format!(
                    "{:.1} kHz · max block {} · latency {} samples ({:.2} ms)",
                    sr / 1000.0,
                    self.bridge.max_block.load(Ordering::Relaxed),
                    lat,
                    if sr > 0.0 { lat as f32 * 1000.0 / sr } else { 0.0 }
                ));
            });
        });

        egui::Panel::left("in_meters").resizable(false).exact_size(70.0).show(ui, |ui| {
            meters::meter_group(ui, "IN", &mut self.input[..channels]);
        });
        egui::Panel::right("out_meters").resizable(false).exact_size(70.0).show(ui, |ui| {
            meters::meter_group(ui, "OUT", &mut self.output[..channels]);
        });
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
                        // Three columns in chain order: input and filters (and the output stage
                        // at the end of the chain, under them), dynamics, delay and reverb.
                        ui.columns(3, |cols| {
                            let p = &self.params;
                            stage(&mut cols[0], "Input", |ui| {
                                row(ui, &p.input.gain, &setter);
                            });
                            stage(&mut cols[0], "Filters", |ui| {
                                let f = &p.filters;
                                for r in [&f.hp_on as &dyn AnyParam, &f.hp_freq, &f.hp_slope, &f.lp_on, &f.lp_freq, &f.lp_slope] {
                                    r.row(ui, &setter);
                                }
                            });
                            stage(&mut cols[1], "Dynamics", |ui| {
                                let d = &p.dynamics;
                                for r in [
                                    &d.agc_on as &dyn AnyParam, &d.agc_target, &d.agc_range, &d.agc_speed, &d.agc_gate,
                                    &d.comp_on, &d.threshold, &d.ratio, &d.knee, &d.attack, &d.release, &d.makeup,
                                    &d.auto_makeup, &d.lookahead,
                                ] {
                                    r.row(ui, &setter);
                                }
                                ui.label("Gain reduction");
                                meters::gain_reduction_bar(ui, self.gain_reduction_db);
                                ui.end_row();
                            });
                            stage(&mut cols[2], "Delay", |ui| {
                                let d = &p.delay;
                                for r in [&d.on as &dyn AnyParam, &d.time, &d.sync, &d.note, &d.feel, &d.feedback, &d.tone, &d.ping_pong, &d.mix] {
                                    r.row(ui, &setter);
                                }
                            });
                            stage(&mut cols[2], "Reverb", |ui| {
                                let r = &p.reverb;
                                for q in [&r.on as &dyn AnyParam, &r.predelay, &r.size, &r.decay, &r.damping, &r.modulation, &r.width, &r.early, &r.mix] {
                                    q.row(ui, &setter);
                                }
                            });
                            stage(&mut cols[0], "Output", |ui| {
                                let o = &p.output;
                                for r in [&o.gain as &dyn AnyParam, &o.mix, &o.ceiling_on, &o.ceiling, &o.bypass] {
                                    r.row(ui, &setter);
                                }
                            });
                        });
            });
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
        self.gui = None;
    }
}
