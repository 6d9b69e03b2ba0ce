//! System packages: what the build and the tests need from Debian, checked and installed.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Need {
    /// How to tell whether it is there: a pkg-config module, or a command on PATH.
    pub check: Check,
    pub debian: &'static str,
}

pub enum Check {
    PkgConfig(&'static str),
    Command(&'static str),
    /// A Debian package with nothing simpler to look for (run-time libraries).
    Package,
}

use Check::*;

/// What building the plugins and the standalone needs.
pub const BUILD: &[Need] = &[
    Need { check: Command("pkg-config"), debian: "pkg-config" },
    Need { check: PkgConfig("alsa"), debian: "libasound2-dev" },
    Need { check: PkgConfig("jack"), debian: "libjack-jackd2-dev" },
    Need { check: Package, debian: "libx11-xcb1" },
    Need { check: Package, debian: "libxcursor1" },
    Need { check: Package, debian: "libgl1" },
];

/// What the tests need besides: a JACK server, an X server, sound tools, Python for the hosts.
pub const TEST: &[Need] = &[
    Need { check: Command("jackd"), debian: "jackd2" },
    Need { check: Command("Xvfb"), debian: "xvfb" },
    Need { check: Command("xwd"), debian: "x11-apps" },
    Need { check: Command("xdotool"), debian: "xdotool" },
    Need { check: Command("xwininfo"), debian: "x11-utils" },
    Need { check: Package, debian: "libgl1-mesa-dri" },
    Need { check: Command("sox"), debian: "sox" },
    Need { check: Command("espeak-ng"), debian: "espeak-ng" },
    Need { check: Command("python3"), debian: "python3" },
    // The ALSA path without a sound card: a PulseAudio null sink, reached through ALSA's pulse
    // plugin, whose monitor source gives back what was played.
    Need { check: Command("pulseaudio"), debian: "pulseaudio" },
    Need { check: Command("pactl"), debian: "pulseaudio-utils" },
    Need { check: Package, debian: "libasound2-plugins" },
    // PipeWire without hardware (tests/pipewire.rs): the daemon, its JACK API (pw-jack), its
    // tools, and WirePlumber to link ALSA clients. Its ALSA plugin comes from `pipewire_alsa`:
    // Debian's pipewire-alsa package conflicts with pulseaudio, which the ALSA tests use.
    Need { check: Command("pipewire"), debian: "pipewire" },
    Need { check: Command("pw-jack"), debian: "pipewire-jack" },
    Need { check: Command("pw-metadata"), debian: "pipewire-bin" },
    Need { check: Command("wireplumber"), debian: "wireplumber" },
];

pub fn on_path(cmd: &str) -> bool {
    std::env::var_os("PATH").map(|p| std::env::split_paths(&p).any(|d| d.join(cmd).is_file())).unwrap_or(false)
}

fn present(need: &Need) -> bool {
    match need.check {
        Command(c) => on_path(c),
        PkgConfig(m) => {
            on_path("pkg-config")
                && std::process::Command::new("pkg-config").args(["--exists", m]).status().map(|s| s.success()).unwrap_or(false)
        }
        Package => std::process::Command::new("dpkg-query")
            .args(["-W", "-f=${Status}", need.debian])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
            .unwrap_or(false),
    }
}

fn is_root() -> bool {
    std::process::Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false)
}

/// Installs what is missing with apt-get on Debian/Ubuntu as root; elsewhere says what to run.
pub fn ensure(needs: &[Need]) -> Result<()> {
    let missing: Vec<&str> = needs.iter().filter(|n| !present(n)).map(|n| n.debian).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let line = format!("apt-get install -y {}", missing.join(" "));
    if !(on_path("apt-get") && is_root()) {
        bail!("missing system packages: {}\nInstall them with:\n  sudo apt-get update && sudo {line}", missing.join(", "));
    }
    eprintln!("installing missing system packages: {}", missing.join(" "));
    apt_get(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(&missing);
    apt_get(&install)?;
    let still: Vec<&str> = needs.iter().filter(|n| !present(n)).map(|n| n.debian).collect();
    if !still.is_empty() {
        bail!("still missing after apt-get: {}", still.join(", "));
    }
    Ok(())
}

/// How long to wait for another package manager (a fresh machine's own updates, an open
/// Software centre) to release apt's lock before giving up.
const APT_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// True when apt-get failed only because another process holds one of its locks.
fn is_lock_error(stderr: &str) -> bool {
    stderr.lines().any(|l| {
        l.contains("Could not get lock") || l.contains("Unable to acquire the dpkg frontend lock") || l.contains("Unable to lock directory")
    })
}

/// Runs apt-get with `args`, waiting (up to `APT_LOCK_WAIT`) while another package manager holds
/// apt's lock, and saying so, instead of failing at once.
fn apt_get(args: &[&str]) -> Result<()> {
    let started = std::time::Instant::now();
    let mut said = false;
    loop {
        eprintln!("+ apt-get {}", args.join(" "));
        let out = Command::new("apt-get")
            .args(["-o", "DPkg::Lock::Timeout=60"])
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(std::process::Stdio::inherit())
            .output()
            .context("could not start apt-get")?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            eprint!("{stderr}");
            return Ok(());
        }
        if !is_lock_error(&stderr) {
            eprint!("{stderr}");
            bail!("apt-get {} failed with {}", args.join(" "), out.status);
        }
        if started.elapsed() > APT_LOCK_WAIT {
            bail!(
                "another package manager has held apt's lock for {} minutes; when it is done, run the command again\n{}",
                APT_LOCK_WAIT.as_secs() / 60,
                stderr.trim()
            );
        }
        if !said {
            eprintln!("another package manager holds apt's lock ({}); waiting for it to finish …", stderr.trim());
            said = true;
        }
        std::thread::sleep(std::time::Duration::from_secs(5));
    }
}

/// PipeWire's ALSA plugin without installing Debian's pipewire-alsa (which would remove
/// pulseaudio): the package is downloaded and unpacked under target/, and a configuration file
/// there defines the `pipewire` device with the plugin's full path. Returns that file, for
/// `ALSA_CONFIG_PATH` after ALSA's own `alsa.conf`.
pub fn pipewire_alsa(root: &Path) -> Result<PathBuf> {
    let dir = root.join("target/pipewire-alsa");
    let lib = dir.join("usr/lib/x86_64-linux-gnu/alsa-lib");
    let conf = dir.join("livechain-alsa.conf");
    if !lib.join("libasound_module_pcm_pipewire.so").exists() {
        std::fs::create_dir_all(&dir)?;
        let download =
            || Command::new("apt-get").args(["download", "-qq", "pipewire-alsa"]).current_dir(&dir).status().is_ok_and(|s| s.success());
        if !download() {
            apt_get(&["update", "-qq"])?;
            if !download() {
                bail!("could not download Debian's pipewire-alsa package (apt-get download pipewire-alsa)");
            }
        }
        let deb = std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "deb"))
            .context("apt-get download left no .deb")?;
        crate::run_cmd(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&dir))?;
    }
    let text = format!(
        "pcm_type.pipewire {{ lib \"{0}/libasound_module_pcm_pipewire.so\" }}\nctl_type.pipewire {{ lib \"{0}/libasound_module_ctl_pipewire.so\" }}\n<{1}>\n",
        lib.display(),
        dir.join("usr/share/alsa/alsa.conf.d/50-pipewire.conf").display()
    );
    std::fs::write(&conf, text)?;
    Ok(conf)
}

/// A Python virtual environment under target/ with the VST3 hosts used by the tests.
pub fn python_venv(root: &Path) -> Result<PathBuf> {
    let venv = root.join("target/venv");
    let python = venv.join("bin/python");
    let stamp = venv.join(".livechain-deps");
    const PACKAGES: &[&str] = &["pedalboard==0.9.*", "dawdreamer==0.9.*", "numpy", "scipy", "pystoi==0.4.*"];
    let wanted = PACKAGES.join(" ");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) && python.exists() {
        return Ok(python);
    }
    if !python.exists() {
        let ok = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().map(|s| s.success()).unwrap_or(false);
        if !ok {
            ensure(&[Need { check: Package, debian: "python3-venv" }])?;
            let _ = std::fs::remove_dir_all(&venv);
            crate::run_cmd(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        }
    }
    crate::run_cmd(Command::new(&python).args(["-m", "pip", "install", "-q", "--disable-pip-version-check"]).args(PACKAGES))
        .context("installing the Python test hosts from PyPI")?;
    std::fs::write(&stamp, wanted)?;
    Ok(python)
}

#[cfg(test)]
mod tests {
    use super::is_lock_error;

    /// apt's own words when another process holds its locks (apt 2.6, Debian 12), and a failure
    /// that is not about a lock.
    #[test]
    fn lock_errors_are_told_from_other_failures() {
        assert!(is_lock_error(
            "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (unattended-upgr)\n\
             E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?"
        ));
        assert!(is_lock_error("E: Could not get lock /var/lib/apt/lists/lock. It is held by process 77 (apt-get)\nE: Unable to lock directory /var/lib/apt/lists/"));
        assert!(!is_lock_error("E: Unable to locate package libjack-jackd2-devv"));
    }
}
