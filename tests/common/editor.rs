//! The standalone's editor under Xvfb, driven with xdotool and read through the layout record
//! the editor writes when `LIVECHAIN_EDITOR_LAYOUT` is set (every widget's rectangle and every
//! parameter's value, a few times a second).
#![allow(dead_code)]

use super::jack::{wait_for, Stop};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The layout record in `path`, once it is there and whole.
pub fn read_record(path: &std::path::Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// The rectangle of widget `id` in a record, in logical points [x0, y0, x1, y1].
pub fn find_rect(v: &Value, id: &str) -> Option<[f32; 4]> {
    let w = v["widgets"].as_array()?.iter().find(|w| w["id"] == id)?;
    let r: Vec<f32> = w["rect"].as_array()?.iter().filter_map(|x| x.as_f64()).map(|x| x as f32).collect();
    Some([*r.first()?, *r.get(1)?, *r.get(2)?, *r.get(3)?])
}

/// A knob's dial centre and value line (`src/editor/controls.rs`: the name takes the top 13
/// points, the value the bottom 15).
pub fn dial(r: [f32; 4]) -> (f32, f32) {
    ((r[0] + r[2]) / 2.0, (r[1] + 13.0 + r[3] - 15.0) / 2.0)
}
pub fn value_line(r: [f32; 4]) -> (f32, f32) {
    ((r[0] + r[2]) / 2.0, r[3] - 7.0)
}

pub struct Editor {
    _app: Stop,
    _xvfb: Stop,
    pub display: String,
    pub layout: PathBuf,
    pub zoom: f32,
}

/// Starts the standalone (dummy audio backend) with its editor at `geometry` ("WxH@ZOOM").
pub fn start(geometry: &str, name: &str) -> Editor {
    let bin = super::bundled("Livechain");
    let (xvfb, display) = super::xvfb::start();
    let layout = std::env::temp_dir().join(format!("livechain-layout-{}-{name}.json", std::process::id()));
    let _ = std::fs::remove_file(&layout);
    let app = Command::new(&bin)
        .args(["--backend", "dummy"])
        .env("DISPLAY", &display)
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .env("LIVECHAIN_EDITOR_GEOMETRY", geometry)
        .env("LIVECHAIN_EDITOR_LAYOUT", &layout)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the standalone");
    let zoom = geometry.split_once('@').map_or(1.0, |(_, z)| z.parse().unwrap());
    let editor = Editor { _app: Stop(app), _xvfb: xvfb, display, layout, zoom };
    wait_for("the editor's layout record", Duration::from_secs(60), || editor.try_read().is_some());
    editor
}

impl Editor {
    fn try_read(&self) -> Option<Value> {
        read_record(&self.layout)
    }

    pub fn read(&self) -> Value {
        self.try_read().expect("the layout record")
    }

    /// A record written after now (so it shows what the last action did).
    pub fn fresh(&self) -> Value {
        let t = std::fs::metadata(&self.layout).and_then(|m| m.modified()).ok();
        wait_for("a new layout record", Duration::from_secs(10), || std::fs::metadata(&self.layout).and_then(|m| m.modified()).ok() != t);
        std::thread::sleep(Duration::from_millis(50));
        self.read()
    }

    /// Waits until `cond` holds on the record.
    pub fn until(&self, what: &str, mut cond: impl FnMut(&Value) -> bool) -> Value {
        wait_for(what, Duration::from_secs(15), || self.try_read().is_some_and(|v| cond(&v)));
        self.read()
    }

    /// Whether `cond` comes to hold on the record within `t`.
    pub fn within(&self, t: Duration, mut cond: impl FnMut(&Value) -> bool) -> bool {
        let start = std::time::Instant::now();
        while start.elapsed() < t {
            if self.try_read().is_some_and(|v| cond(&v)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    pub fn param(v: &Value, id: &str) -> f64 {
        v["params"][id].as_f64().unwrap_or_else(|| panic!("no parameter {id} in the record"))
    }

    /// The widget's rectangle in logical points, [x0, y0, x1, y1].
    pub fn rect(v: &Value, id: &str) -> [f32; 4] {
        find_rect(v, id).unwrap_or_else(|| panic!("no widget {id} on screen"))
    }

    /// Screen pixels of a logical point.
    pub fn px(&self, x: f32, y: f32) -> (i32, i32) {
        ((x * self.zoom).round() as i32, (y * self.zoom).round() as i32)
    }

    pub fn xdotool(&self, args: &[String]) {
        let ok =
            Command::new("xdotool").args(args).env("DISPLAY", &self.display).status().expect("xdotool (Debian xdotool) must be installed");
        assert!(ok.success(), "xdotool {args:?}");
    }

    pub fn move_to(&self, x: f32, y: f32) {
        let (px, py) = self.px(x, y);
        self.xdotool(&["mousemove".into(), px.to_string(), py.to_string()]);
        std::thread::sleep(Duration::from_millis(120));
    }

    pub fn click(&self, x: f32, y: f32) {
        self.move_to(x, y);
        self.xdotool(&["click".into(), "1".into()]);
        std::thread::sleep(Duration::from_millis(150));
    }

    pub fn double_click(&self, x: f32, y: f32) {
        self.move_to(x, y);
        self.xdotool(&["click".into(), "--repeat".into(), "2".into(), "--delay".into(), "80".into(), "1".into()]);
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Presses at `from`, moves to `to` in small steps (egui sees every motion), releases.
    pub fn drag(&self, from: (f32, f32), to: (f32, f32), modifier: Option<&str>) {
        self.move_to(from.0, from.1);
        if let Some(m) = modifier {
            self.xdotool(&["keydown".into(), m.into()]);
        }
        self.xdotool(&["mousedown".into(), "1".into()]);
        std::thread::sleep(Duration::from_millis(100));
        let steps = 20;
        for k in 1..=steps {
            let t = k as f32 / steps as f32;
            let (px, py) = self.px(from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t);
            self.xdotool(&["mousemove".into(), px.to_string(), py.to_string()]);
            std::thread::sleep(Duration::from_millis(40));
        }
        // The editor must have drawn a frame with the pointer at its last place before the
        // button goes up (a release in the same frame as the last moves ends the drag short):
        // two fresh records, each written after a frame, however slow the frames are.
        self.fresh();
        self.fresh();
        self.xdotool(&["mouseup".into(), "1".into()]);
        if let Some(m) = modifier {
            self.xdotool(&["keyup".into(), m.into()]);
        }
        std::thread::sleep(Duration::from_millis(150));
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["key".to_string(), "--delay".into(), "60".into()];
        args.extend(keys.iter().map(|k| k.to_string()));
        self.xdotool(&args);
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Clicks knob `id`'s value line and types `text` and Return into the field that opens,
    /// once a frame has shown the field with the focus (on a loaded machine a click and the keys
    /// after it can land in one frame, before the field exists, and the keys go nowhere).
    pub fn type_value(&self, id: &str, text: &str) {
        let v = self.read();
        let (x, y) = value_line(Self::rect(&v, &format!("knob:{id}")));
        self.click(x, y);
        self.until(&format!("the text field of {id}"), |v| v["typing"] == id);
        // The record that showed it may have been written in the frame that asked for the focus;
        // one more frame and the field has it.
        self.fresh();
        self.keys(&["ctrl+a"]);
        self.type_text(text);
        self.keys(&["Return"]);
    }

    pub fn type_text(&self, text: &str) {
        self.xdotool(&["type".into(), "--delay".into(), "60".into(), "--".into(), text.into()]);
        std::thread::sleep(Duration::from_millis(150));
    }

    pub fn centre(r: [f32; 4]) -> (f32, f32) {
        ((r[0] + r[2]) / 2.0, (r[1] + r[3]) / 2.0)
    }
}
