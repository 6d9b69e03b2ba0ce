//! A private PipeWire daemon for the tests: no hardware, no D-Bus, its own runtime folder. Its
//! graph has a dummy driver and a null sink ("Test null sink") whose monitor ports give back
//! what is played into it; with `session_manager`, WirePlumber runs too (ALSA clients need it to
//! be linked to the sink), with its D-Bus parts (Bluetooth, the Flatpak portal) left out.
#![allow(dead_code)]

use super::jack::{wait_for, Stop};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The daemon's configuration: the core modules a JACK or ALSA client needs, a dummy driver
/// (so the graph runs without a sound card), and a null sink with monitor ports, at 48 kHz.
const CONF: &str = r#"
context.properties = {
    core.daemon = true
    core.name = pipewire-0
    default.clock.rate = 48000
    default.clock.allowed-rates = [ 48000 ]
    default.clock.quantum = 256
    default.clock.min-quantum = 16
    default.clock.max-quantum = 2048
    mem.allow-mlock = false
    support.dbus = false
}
context.spa-libs = {
    audio.convert.* = audioconvert/libspa-audioconvert
    support.*       = support/libspa-support
}
context.modules = [
    { name = libpipewire-module-protocol-native }
    { name = libpipewire-module-profiler }
    { name = libpipewire-module-metadata }
    { name = libpipewire-module-spa-node-factory }
    { name = libpipewire-module-client-node }
    { name = libpipewire-module-access args = { } }
    { name = libpipewire-module-adapter }
    { name = libpipewire-module-link-factory }
    { name = libpipewire-module-session-manager }
]
context.objects = [
    { factory = spa-node-factory
      args = { factory.name = support.node.driver node.name = Dummy-Driver node.group = pipewire.dummy priority.driver = 20000 } }
    { factory = spa-node-factory
      args = { factory.name = support.node.driver node.name = Freewheel-Driver priority.driver = 19000
               node.group = pipewire.freewheel node.freewheel = true } }
    { factory = adapter
      args = { factory.name = support.null-audio-sink node.name = test-sink node.description = "Test null sink"
               media.class = Audio/Sink audio.position = [ FL FR ] monitor.channel-volumes = false object.linger = true
               adapter.auto-port-config = { mode = dsp monitor = true control = false position = preserve } } }
]
"#;

/// WirePlumber without its D-Bus parts and without looking for hardware.
const WIREPLUMBER_LUA: &str = r#"
alsa_monitor.enabled = false
v4l2_monitor.enabled = false
libcamera_monitor.enabled = false
default_access.properties["enable-flatpak-portal"] = false
"#;

pub const SINK: &str = "Test null sink";

pub struct PipeWire {
    pub dir: PathBuf,
    // Dropped in reverse: the session manager before the daemon.
    daemons: Vec<Stop>,
}

impl PipeWire {
    pub fn start(tag: &str, session_manager: bool) -> PipeWire {
        let dir = std::env::temp_dir().join(format!("livechain-pipewire-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for d in ["run", "config/wireplumber/main.lua.d"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.join("run"), std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        std::fs::write(dir.join("pipewire.conf"), CONF).unwrap();
        let mut pw = PipeWire { dir, daemons: Vec::new() };
        let daemon = pw.command("pipewire").arg("-c").arg(pw.dir.join("pipewire.conf")).stdout(Stdio::null()).stderr(Stdio::null()).spawn();
        pw.daemons.push(Stop(daemon.expect("pipewire (Debian pipewire) must be installed")));
        wait_for("the PipeWire daemon", Duration::from_secs(20), || pw.run("pw-cli", &["info", "0"]).is_some());
        if session_manager {
            // Debian's wireplumber.conf without its Bluetooth component (which needs D-Bus).
            let stock = std::fs::read_to_string("/usr/share/wireplumber/wireplumber.conf").expect("wireplumber (Debian) must be installed");
            let conf: String = stock.lines().filter(|l| !l.contains("bluetooth.lua")).map(|l| format!("{l}\n")).collect();
            std::fs::write(pw.dir.join("config/wireplumber/wireplumber.conf"), conf).unwrap();
            std::fs::write(pw.dir.join("config/wireplumber/main.lua.d/51-livechain-test.lua"), WIREPLUMBER_LUA).unwrap();
            let wp = pw.command("wireplumber").stdout(Stdio::null()).stderr(Stdio::null()).spawn();
            pw.daemons.push(Stop(wp.expect("wireplumber (Debian) must be installed")));
            wait_for("WirePlumber to pick the null sink as the default", Duration::from_secs(20), || {
                pw.run("pw-metadata", &["-n", "default", "0", "default.audio.sink"]).is_some_and(|o| o.contains("test-sink"))
            });
        }
        pw
    }

    /// `program` talking to this daemon.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("XDG_RUNTIME_DIR", self.dir.join("run"))
            .env("XDG_CONFIG_HOME", self.dir.join("config"))
            .env("DBUS_SESSION_BUS_ADDRESS", "disabled:")
            .env_remove("PIPEWIRE_REMOTE");
        cmd
    }

    /// `program` on PipeWire's JACK API, as `pw-jack` runs it.
    pub fn jack(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = self.command("pw-jack");
        cmd.arg(program);
        cmd
    }

    /// Runs a PipeWire tool; its standard output when it succeeds.
    pub fn run(&self, program: &str, args: &[&str]) -> Option<String> {
        let out = self.command(program).args(args).stderr(Stdio::null()).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Forces the graph's quantum and waits until a JACK client sees it.
    pub fn force_quantum(&self, frames: u32) {
        assert!(self.run("pw-metadata", &["-n", "settings", "0", "clock.force-quantum", &frames.to_string()]).is_some());
        wait_for(&format!("PipeWire's quantum to become {frames}"), Duration::from_secs(20), || {
            // jack_bufsize prints the size alone (PipeWire's) or "buffer size = N" (jackd2's).
            self.jack("jack_bufsize").output().is_ok_and(|o| {
                String::from_utf8_lossy(&o.stdout).split(|c: char| !c.is_ascii_digit()).rfind(|w| !w.is_empty())
                    == Some(frames.to_string().as_str())
            })
        });
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for PipeWire {
    fn drop(&mut self) {
        while let Some(d) = self.daemons.pop() {
            drop(d);
        }
        let _ = std::fs::remove_dir_all(Path::new(&self.dir));
    }
}
