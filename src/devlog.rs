//! The audio device's errors in the standalone, for the terminal and the editor.
//!
//! nice-plug's standalone backends say what goes wrong with the audio device (an ALSA xrun, a
//! stream the driver ended, a JACK buffer larger than the maximum) only as log events. Livechain
//! installs the log itself (`Plugin::setup_logger`): the terminal output is the one nice-plug's
//! default gives, and one more layer counts those events and keeps the latest, which the editor
//! shows next to the xrun count. Nothing here runs on the plugin's audio thread: the events come
//! from the backends' error callbacks.
//!
//! When the driver ends the output stream, nice-plug's backend does not reopen it. The standalone
//! then reopens the device itself (`src/main.rs`: it runs itself again in the same process, with
//! the same arguments), and the settings go across in a preset file: `adopt` keeps the one
//! instance's parameters and loads that file into them, `save_settings` writes it.

use crate::bridge::Bridge;
use crate::params::LivechainParams;
use crate::presets::Preset;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// Xruns the audio device reported (the standalone's JACK monitor counts them); the editor shows
/// them next to the plugin's own overloads.
pub static DEVICE_XRUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Tasks nice-plug's wrappers dropped because their queue to the main thread was full (they say
/// so only in the log, as a warning): a latency report, a parameter rescan lost. The test hosts
/// read it (`crate::livechain_dropped_tasks`) and fail on any.
pub static WRAPPER_DROPPED_TASKS: AtomicU32 = AtomicU32::new(0);

/// The module path nice-plug's plugin wrappers log from.
const WRAPPER_TARGET: &str = "nice_plug::wrapper";

/// The module path nice-plug's standalone wrapper and its backends log from.
const STANDALONE_TARGET: &str = "nice_plug::wrapper::standalone";

/// What one device error means for the audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceEvent {
    /// A dropout the driver recovered from (counted with the xruns).
    Xrun,
    /// The output stream ended: nice-plug's cpal backend stops on any playback error that is not
    /// an xrun, so no audio flows until the standalone is restarted.
    OutputStopped,
    /// The input stream ended: the chain keeps running on silence.
    InputStopped,
    /// Anything else the backend reported (a port that would not connect, a JACK buffer size
    /// beyond the one allocated).
    Other,
}

/// Sorts one of nice-plug's standalone error messages (its cpal backend prefixes the stream's
/// error with "Error during playback:" or "Error during capture:"; cpal's xrun reads "A buffer
/// underrun or overrun occurred.").
pub fn classify(message: &str) -> DeviceEvent {
    if message.contains("underrun or overrun") {
        DeviceEvent::Xrun
    } else if message.starts_with("Error during playback") {
        DeviceEvent::OutputStopped
    } else if message.starts_with("Error during capture") {
        DeviceEvent::InputStopped
    } else {
        DeviceEvent::Other
    }
}

/// True for nice-plug's standalone failing to install its Ctrl-C handler: Livechain installs its
/// own first on purpose (see `main.rs`), so that error is expected and says nothing of the device.
pub fn is_own_signal_handler(message: &str) -> bool {
    message.contains("close signal callback") || message.contains("signal handler already registered")
}

/// The device's state as the standalone's log reported it.
pub struct DeviceStatus {
    errors: AtomicU32,
    output_stopped: AtomicBool,
    input_stopped: AtomicBool,
    last: Mutex<String>,
}

pub static DEVICE: DeviceStatus = DeviceStatus {
    errors: AtomicU32::new(0),
    output_stopped: AtomicBool::new(false),
    input_stopped: AtomicBool::new(false),
    last: Mutex::new(String::new()),
};

impl DeviceStatus {
    /// Device errors other than xruns (those count in `DEVICE_XRUNS`).
    pub fn errors(&self) -> u32 {
        self.errors.load(Ordering::Relaxed)
    }

    pub fn output_stopped(&self) -> bool {
        self.output_stopped.load(Ordering::Relaxed)
    }

    pub fn input_stopped(&self) -> bool {
        self.input_stopped.load(Ordering::Relaxed)
    }

    /// The latest device error other than an xrun, empty before the first.
    pub fn last(&self) -> String {
        self.last.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Takes one error message from the standalone's backend.
    pub fn record(&self, message: &str) -> DeviceEvent {
        let event = classify(message);
        match event {
            DeviceEvent::Xrun => {
                DEVICE_XRUNS.fetch_add(1, Ordering::Relaxed);
                return event;
            }
            DeviceEvent::OutputStopped | DeviceEvent::InputStopped | DeviceEvent::Other => {}
        }
        // A dead stream's callback keeps failing: say it once.
        let first = match event {
            DeviceEvent::OutputStopped => !self.output_stopped.swap(true, Ordering::Relaxed),
            DeviceEvent::InputStopped => !self.input_stopped.swap(true, Ordering::Relaxed),
            _ => true,
        };
        if let Ok(mut last) = self.last.lock() {
            last.clear();
            last.push_str(message);
        }
        self.errors.fetch_add(1, Ordering::Relaxed);
        if first {
            match event {
                DeviceEvent::OutputStopped => eprintln!(
                    "livechain: the audio device ended the output stream ({message}). On ALSA through \
                     PulseAudio or PipeWire this follows dropouts: a larger --period-size, a hw: device or \
                     JACK avoids it."
                ),
                DeviceEvent::InputStopped => eprintln!(
                    "livechain: the audio device ended the input stream ({message}); the chain runs on \
                     silence."
                ),
                _ => {}
            }
        }
        event
    }
}

/// Set by the standalone before it makes its one plugin instance: `adopt` then keeps that
/// instance's parameters (plugins in a host never set it).
pub static STANDALONE: AtomicBool = AtomicBool::new(false);

/// The environment variable that hands a reopened standalone the preset file with its settings.
pub const RESTORE_ENV: &str = "LIVECHAIN_RESTORE";

/// The standalone instance's parameters and bridge.
static INSTANCE: Mutex<Option<(Weak<LivechainParams>, Weak<Bridge>)>> = Mutex::new(None);

/// Called for every new instance: in the standalone, keeps its parameters and its bridge to the
/// audio thread and, when it was reopened, loads the settings the previous run saved (and
/// removes their file).
pub(crate) fn adopt(params: &Arc<LivechainParams>, bridge: &Arc<Bridge>) {
    if !STANDALONE.load(Ordering::Relaxed) {
        return;
    }
    if let Ok(mut instance) = INSTANCE.lock() {
        *instance = Some((Arc::downgrade(params), Arc::downgrade(bridge)));
    }
    let Some(path) = std::env::var_os(RESTORE_ENV).map(PathBuf::from) else { return };
    std::env::remove_var(RESTORE_ENV);
    match restore(params, &path) {
        Ok(n) => eprintln!("livechain: reopened with the previous settings ({n} values)"),
        Err(e) => eprintln!("livechain: reopened with the defaults: {e}"),
    }
    let _ = std::fs::remove_file(&path);
}

/// The standalone instance's bridge (meters, the loop probe), once the instance exists.
pub fn standalone_bridge() -> Option<Arc<Bridge>> {
    INSTANCE.lock().ok()?.as_ref()?.1.upgrade()
}

/// Loads a preset file into parameters no host or editor uses yet.
pub fn restore(params: &LivechainParams, path: &std::path::Path) -> Result<usize, String> {
    let preset = Preset::load(path)?;
    let (targets, _unknown) = preset.targets(params);
    for (ptr, norm) in &targets {
        // SAFETY: the pointers belong to `params`, which is alive; nothing reads them yet.
        unsafe {
            ptr._internal_set_normalized_value(*norm);
        }
    }
    Ok(targets.len())
}

/// Writes the standalone instance's current settings to a preset file for the reopened run.
pub fn save_settings() -> Result<PathBuf, String> {
    let params = INSTANCE
        .lock()
        .ok()
        .and_then(|s| s.as_ref().and_then(|(params, _)| params.upgrade()))
        .ok_or("no plugin instance to take the settings from")?;
    let path = std::env::temp_dir().join(format!("livechain-reopen-{}.json", std::process::id()));
    Preset::capture("(reopened)", params.as_ref()).save(&path)?;
    Ok(path)
}

/// The layer that feeds `DEVICE` from the standalone backends' error events, and counts the
/// wrappers' dropped tasks.
struct DeviceLayer;

struct Message(String);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            use std::fmt::Write;
            let _ = write!(self.0, "{value:?}");
        }
    }
}

impl<S: Subscriber> Layer<S> for DeviceLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if *meta.level() == Level::WARN && meta.target().starts_with(WRAPPER_TARGET) {
            let mut message = Message(String::new());
            event.record(&mut message);
            if message.0.contains("task queue is full") {
                WRAPPER_DROPPED_TASKS.fetch_add(1, Ordering::Relaxed);
            }
            return;
        }
        if *meta.level() != Level::ERROR || !meta.target().starts_with(STANDALONE_TARGET) {
            return;
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        if is_own_signal_handler(&message.0) {
            return;
        }
        DEVICE.record(&message.0);
    }
}

/// Keeps nice-plug's "could not set the Ctrl-C handler" error (see `is_own_signal_handler`) off
/// the terminal; every other event passes.
struct HideOwnSignalHandler;

impl<S: Subscriber> tracing_subscriber::layer::Filter<S> for HideOwnSignalHandler {
    fn enabled(&self, _meta: &tracing::Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, event: &Event<'_>, _cx: &Context<'_, S>) -> bool {
        if *event.metadata().level() != Level::ERROR {
            return true;
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        !is_own_signal_handler(&message.0)
    }
}

/// Installs the global log: nice-plug's default terminal output (debug level in debug builds,
/// info in release, `NICE_LOG` chooses the file or stream) with the device layer.
pub fn install() -> bool {
    use tracing_subscriber::filter::FilterExt;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::Layer as _;
    #[cfg(debug_assertions)]
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(true)
        .with_ansi(false)
        .with_writer(nice_log::writer_from_env())
        .with_filter(tracing::level_filters::LevelFilter::DEBUG.and(HideOwnSignalHandler));
    #[cfg(not(debug_assertions))]
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .with_writer(nice_log::writer_from_env())
        .with_filter(tracing::level_filters::LevelFilter::INFO.and(HideOwnSignalHandler));
    let subscriber = tracing_subscriber::registry().with(fmt).with(DeviceLayer);
    tracing::subscriber::set_global_default(subscriber).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nice_plug::prelude::Params;
    use tracing_subscriber::layer::SubscriberExt;

    /// The events as nice-plug's cpal and JACK backends write them (their message texts and their
    /// module path), through the real layer.
    #[test]
    fn backend_errors_are_sorted_counted_and_kept() {
        let subscriber = tracing_subscriber::registry().with(DeviceLayer);
        let xruns_before = DEVICE_XRUNS.load(Ordering::Relaxed);
        tracing::subscriber::with_default(subscriber, || {
            let err = "A buffer underrun or overrun occurred.";
            tracing::error!(target: "nice_plug::wrapper::standalone::backend::cpal", "Error during playback: {err:#}");
            tracing::error!(target: "nice_plug::wrapper::standalone::backend::cpal", "Error during capture: {err:#}");
            assert_eq!(DEVICE.errors(), 0, "xruns are not device errors");
            // Not from the standalone, or not an error: ignored.
            tracing::error!(target: "livechain::chain", "Error during playback: something else");
            tracing::warn!(target: "nice_plug::wrapper::standalone::backend::cpal", "Error during playback: a warning");
            assert_eq!(DEVICE.errors(), 0);
            // nice-plug's standalone finding Livechain's own Ctrl-C handler in place: not a
            // device error (the editor's header showed it in red on every start).
            tracing::error!(
                target: "nice_plug::wrapper::standalone::wrapper",
                "Error setting close signal callback Ctrl-C error: Ctrl-C signal handler already registered"
            );
            assert_eq!(DEVICE.errors(), 0);
            assert!(!DEVICE.output_stopped());
            let jack = "JACK buffer size grew from 256 to 512";
            tracing::error!(target: "nice_plug::wrapper::standalone::backend::jack", "{jack}");
            assert_eq!(DEVICE.errors(), 1);
            assert_eq!(DEVICE.last(), jack);
            assert!(!DEVICE.output_stopped() && !DEVICE.input_stopped());
            let eio = "ALSA function 'snd_pcm_avail_delay' failed with error 'I/O error (5)'";
            tracing::error!(target: "nice_plug::wrapper::standalone::backend::cpal", "Error during playback: {eio:#}");
            assert_eq!(DEVICE.errors(), 2);
            assert!(DEVICE.output_stopped() && !DEVICE.input_stopped());
            assert_eq!(DEVICE.last(), format!("Error during playback: {eio}"));
        });
        assert_eq!(DEVICE_XRUNS.load(Ordering::Relaxed), xruns_before + 2);
    }

    /// What a reopened standalone gets is what the previous run had, every value.
    #[test]
    fn settings_survive_a_reopen() {
        let running = Arc::new(LivechainParams::default());
        let changed = [("rev_decay", 3.25), ("comp_thresh", -31.0), ("hp_on", 1.0), ("dly_note", 4.0)];
        let preset = Preset::new("x", &changed);
        restore(&running, &write_temp(&preset)).unwrap();
        *INSTANCE.lock().unwrap() = Some((Arc::downgrade(&running), Weak::new()));
        let path = save_settings().unwrap();
        let reopened = LivechainParams::default();
        let n = restore(&reopened, &path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(n, running.param_map().len());
        let before = Preset::capture("a", running.as_ref()).params;
        let after = Preset::capture("b", &reopened).params;
        // Equal to float rounding: values go through the parameters' normalized (skewed) ranges.
        let close = |a: f32, b: f32| (a - b).abs() <= 1e-5 * a.abs().max(1.0);
        assert_eq!(before.len(), after.len());
        for (id, v) in &before {
            assert!(close(*v, after[id]), "{id}: {v} vs {}", after[id]);
        }
        for (id, v) in changed {
            assert!(close(after[id], v), "{id}: {} vs {v}", after[id]);
        }
        *INSTANCE.lock().unwrap() = None;
        drop(running);
        assert!(save_settings().is_err(), "no instance, no settings");
    }

    fn write_temp(preset: &Preset) -> PathBuf {
        let path = std::env::temp_dir().join(format!("livechain-devlog-test-{}.json", std::process::id()));
        preset.save(&path).unwrap();
        path
    }

    #[test]
    fn the_terminal_log_leaves_out_only_our_own_signal_handler() {
        use tracing_subscriber::Layer as _;
        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let out = buf.clone();
        let fmt = tracing_subscriber::fmt::layer().with_ansi(false).with_writer(move || out.clone()).with_filter(HideOwnSignalHandler);
        tracing::subscriber::with_default(tracing_subscriber::registry().with(fmt), || {
            tracing::error!(
                target: "nice_plug::wrapper::standalone::wrapper",
                "Error setting close signal callback Ctrl-C error: Ctrl-C signal handler already registered"
            );
            tracing::error!(target: "nice_plug::wrapper::standalone::backend::jack", "Could not connect to 'system:playback_1'");
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(!text.contains("close signal callback"), "{text}");
        assert!(text.contains("Could not connect"), "{text}");
    }

    #[test]
    fn classify_reads_the_backends_wording() {
        assert_eq!(classify("Error during capture: A buffer underrun or overrun occurred."), DeviceEvent::Xrun);
        assert_eq!(classify("Error during capture: The requested device is no longer available."), DeviceEvent::InputStopped);
        assert_eq!(classify("Error during playback: The requested device is no longer available."), DeviceEvent::OutputStopped);
        assert_eq!(classify("Could not connect to 'system:playback_1': port not found"), DeviceEvent::Other);
    }
}
