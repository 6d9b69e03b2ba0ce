//! The standalone program: the nice-plug standalone (JACK, ALSA or dummy backend) with the editor.

use livechain::Livechain;
use nice_plug::prelude::*;
use std::sync::atomic::Ordering;

fn main() {
    let has_display = std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty());
    if !has_display {
        livechain::HEADLESS.store(true, Ordering::Relaxed);
    }
    let ok = nice_export_standalone::<Livechain>();
    // nice-plug returns false when the audio backend could not start (its log says why).
    std::process::exit(if ok { 0 } else { 2 });
}
