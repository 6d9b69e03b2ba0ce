//! A private X server (Xvfb) for the tests that open the editor.
#![allow(dead_code)]

use super::jack::{wait_for, Stop};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Starts Xvfb at 1280×900×24 on a display number no other X server holds (its lock file and
/// socket both absent) and waits for its socket. Returns the server (stopped on drop) and the
/// display name for `DISPLAY`.
pub fn start() -> (Stop, String) {
    let n = (50 + std::process::id() % 200..400)
        .find(|n| !PathBuf::from(format!("/tmp/.X{n}-lock")).exists() && !PathBuf::from(format!("/tmp/.X11-unix/X{n}")).exists())
        .expect("a free X display number");
    let display = format!(":{n}");
    let xvfb = Stop(
        Command::new("Xvfb")
            .args([&display, "-screen", "0", "1280x900x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (Debian xvfb) must be installed"),
    );
    wait_for("Xvfb", Duration::from_secs(20), || PathBuf::from(format!("/tmp/.X11-unix/X{n}")).exists());
    (xvfb, display)
}

/// The root window's id, for a plugin editor embedded straight into the screen.
pub fn root_window(display: &str) -> u64 {
    let out =
        Command::new("xwininfo").args(["-root", "-display", display]).output().expect("xwininfo (Debian x11-utils) must be installed");
    let text = String::from_utf8_lossy(&out.stdout);
    let hex = text
        .split("Window id: 0x")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no window id in xwininfo's output: {text}"));
    u64::from_str_radix(hex, 16).expect("a hex window id")
}
