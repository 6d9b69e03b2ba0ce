//! The Windows build (cross-built with mingw-w64) and its tests under Wine.

use crate::system::{self, Check, Need};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const TARGET: &str = "x86_64-pc-windows-gnu";

/// What cross-building for Windows needs from Debian: the mingw-w64 linker (and its C compiler
/// for the Wine stub below).
pub const BUILD: &[Need] = &[Need { check: Check::Command("x86_64-w64-mingw32-gcc"), debian: "gcc-mingw-w64-x86-64" }];

/// What running the Windows build needs: 64-bit Wine (Debian 12 ships Wine 8.0).
pub const TEST: &[Need] = &[Need { check: Check::Package, debian: "wine64" }];

/// The tests that run as Windows programs under Wine: the CLAP host loading the Windows `.clap`
/// (sample-accurate automation, state, latency, reset, tail), the validator's processing matrix
/// and parameter storms, state robustness, the vocoder's MIDI and sidechain, and `render`.
pub const WINE_TESTS: &[&str] = &["clap_host", "validator", "state_robustness", "vocoder", "render"];

/// The Windows toolchain: Debian's mingw-w64 and rustup's standard library for the target.
pub fn ensure_toolchain() -> Result<()> {
    system::ensure(BUILD)?;
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output().context("could not run rustup")?;
    if !String::from_utf8_lossy(&installed.stdout).lines().any(|l| l.trim() == TARGET) {
        crate::run_cmd(Command::new("rustup").args(["target", "add", TARGET])).context("adding Rust's Windows target")?;
    }
    Ok(())
}

/// Debian puts the 64-bit loader outside PATH.
fn wine_loader() -> Result<PathBuf> {
    for p in ["/usr/lib/wine/wine64", "/usr/bin/wine64", "/usr/bin/wine"] {
        if Path::new(p).is_file() {
            return Ok(PathBuf::from(p));
        }
    }
    bail!("no Wine loader found (looked for /usr/lib/wine/wine64, /usr/bin/wine64, /usr/bin/wine): install Debian's wine64")
}

/// A Wine prefix of our own under target/, made on first use, with the `ProcessPrng` stub in its
/// system32 (see xtask/wine/bcryptprimitives.c). Returns the environment every Wine run of the
/// tests gets: the prefix, the loader (also as cargo's runner for the Windows target), no debug
/// chatter, and no offer to install Mono or Gecko.
pub fn prefix(root: &Path) -> Result<Vec<(String, String)>> {
    system::ensure(TEST)?;
    let loader = wine_loader()?;
    let prefix = root.join("target/wine");
    let env: Vec<(String, String)> = vec![
        ("WINEPREFIX".into(), prefix.display().to_string()),
        ("WINEDEBUG".into(), "-all".into()),
        ("WINEDLLOVERRIDES".into(), "mscoree,mshtml=".into()),
        ("LIVECHAIN_WINE".into(), loader.display().to_string()),
        (format!("CARGO_TARGET_{}_RUNNER", TARGET.to_uppercase().replace('-', "_")), loader.display().to_string()),
    ];
    if !prefix.join("system.reg").exists() {
        eprintln!("making the Wine prefix {}", prefix.display());
        crate::run_cmd(Command::new(&loader).args(["wineboot", "--init"]).envs(env.iter().cloned()))?;
    }
    let stub_src = root.join("xtask/wine/bcryptprimitives.c");
    let stub = prefix.join("drive_c/windows/system32/bcryptprimitives.dll");
    let stale = |built: &Path| -> bool {
        let time = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        time(built).is_none() || time(built) < time(&stub_src)
    };
    if stale(&stub) {
        crate::run_cmd(Command::new("x86_64-w64-mingw32-gcc").args(["-O2", "-shared", "-o"]).arg(&stub).arg(&stub_src).arg("-ladvapi32"))
            .context("building the ProcessPrng stub for Wine")?;
    }
    Ok(env)
}

/// A Linux path as the Windows programs under Wine see it (Wine maps `/` to drive Z:).
pub fn wine_path(p: &Path) -> String {
    format!("Z:{}", p.display()).replace('/', "\\")
}

/// The Windows tests: cross-built, run by cargo with Wine as the runner, on the Windows test
/// bundle.
pub fn run_tests(root: &Path, env: &[(String, String)]) -> Result<()> {
    let mut cmd = Command::new("cargo");
    cmd.args(["test", "--target", TARGET, "--features", "livechain/assert_process_allocs"]);
    for t in WINE_TESTS {
        cmd.args(["--test", t]);
    }
    cmd.args(["--", "--include-ignored"])
        .envs(env.iter().cloned())
        .env("LIVECHAIN_BUNDLE_DIR", wine_path(&root.join(crate::TEST_BUNDLE_WINDOWS)));
    crate::run_cmd(&mut cmd).context("the Windows tests under Wine")
}

/// Ends the prefix's wineserver (and with it any Windows program a failed test left behind).
pub fn stop(env: &[(String, String)]) {
    let _ = Command::new("/usr/lib/wine/wineserver").arg("-k").envs(env.iter().cloned()).status();
}
