//! Windows programs of the Windows test bundle, run under Wine from the Linux tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A file of the Windows test bundle (`cargo xtask test` cross-builds it into
/// target/test-bundle-windows; `LIVECHAIN_WINDOWS_BUNDLE_DIR` points elsewhere).
pub fn bundled(name: &str) -> PathBuf {
    let dir = std::env::var_os("LIVECHAIN_WINDOWS_BUNDLE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-bundle-windows"));
    let p = dir.join(name);
    assert!(p.exists(), "{} is missing: run `cargo xtask test` (or `cargo xtask windows --test`), which builds it first", p.display());
    p
}

/// `exe` under Wine, in the prefix `cargo xtask` made (target/wine, with the `ProcessPrng` stub).
pub fn command(exe: &Path) -> Command {
    let loader = std::env::var("LIVECHAIN_WINE").unwrap_or_else(|_| "/usr/lib/wine/wine64".into());
    let mut cmd = Command::new(loader);
    cmd.arg(exe);
    if std::env::var_os("WINEPREFIX").is_none() {
        cmd.env("WINEPREFIX", PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/wine"));
    }
    cmd.env("WINEDEBUG", "-all").env("WINEDLLOVERRIDES", "mscoree,mshtml=");
    cmd
}

/// A Linux path as a Windows program under Wine names it (`/` is drive Z:).
pub fn path(p: &Path) -> String {
    format!("Z:{}", p.display()).replace('/', "\\")
}
