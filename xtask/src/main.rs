//! `cargo xtask`: bundling (nice-plug-xtask), system packages, install, run, the full test, the
//! benches' side-by-side comparison and the charts of the recorded figures.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

mod charts;
mod system;
mod windows;

use windows::TARGET as WINDOWS_TARGET;

const USAGE: &str = "usage: cargo xtask <command>

  bundle livechain [--release]  build and bundle the CLAP, VST3 and standalone
  deps                          check (and on Debian as root, install) the system packages
  windows [--test]              cross-build the Windows bundles (Livechain.clap, Livechain.vst3,
                                Livechain.exe) into target/bundled-windows, installing mingw-w64
                                and Rust's target first; --test: the test build, and its tests
                                under Wine
  install                       copy the bundles to ~/.clap and ~/.vst3
  run                           deps, bundle --release, install, then start the standalone
  test                          every test: formatting first, clippy's lints during the build, then
                                cargo test with the system tests (the CLAP host, the validator, the
                                standalone under JACK and Xvfb), then the VST3 hosts
  compare [SECONDS]             the same audio through Livechain (VST3 in pedalboard), pedalboard's
                                own chain and a numpy/scipy chain in 64-frame callbacks: times, ratios;
                                the figures also in target/compare/compare.csv, drawn as SVG charts
                                beside it
  charts [--data F] [--out D]   draw the benchmark figures recorded in docs/bench-data.csv as the SVG
                                charts in docs/ that docs/benchmarks.md shows
  worst-case                    a million 32-frame blocks under automation: p50 … p99.99, max
  howl [--quick|--detect|--canceller [--seeds]|--loop-aware|--moving|--reset|--switched-off|--playback|--held]
                                the feedback suppressor in a simulated closed acoustic loop: MSG
                                with it off and on, ASG, detection, distortion per room and source,
                                and music that must be left alone (espeak-ng and sox are installed);
                                --quick: one room, --detect: detection (and the howl with
                                no suppressor, and how often the source and music are as
                                howl-like as it is 50 ms in), what notches could add, and music,
                                --canceller: the canceller on more sources, and music
                                and a loop held for a minute (--seeds: three more
                                realisations of each sung vowel), --loop-aware: what the
                                canceller's estimator, learning all the time, knows of each loop
                                and makes of music with no loop, and a fit of a known loop's
                                gain, on the output and on probe noise, --moving: the canceller
                                holding a loop while the microphone moves, --reset: while the
                                host resets the plugin or activates it again, --switched-off:
                                when the speaker goes off under it, --playback: a take played
                                back after a live loop, with and without clear, --held: a howl
                                the safety ceiling holds, and the suppressor switched on under it
  fuzz [SECONDS]                state loading and process() with random events, through the CLAP
                                host, for SECONDS per target (default 300), fresh seeds each run";

/// Errors end the command with what went wrong and what to do, as one message (no backtrace,
/// whatever RUST_BACKTRACE says: they are the user's to read, not a crash).
fn main() {
    if let Err(e) = run_command() {
        eprintln!("cargo xtask: {e:#}");
        std::process::exit(1);
    }
}

fn run_command() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(cmd) = args.next() else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    let rest: Vec<String> = args.collect();
    let root = workspace_root()?;
    std::env::set_current_dir(&root)?;
    match cmd.as_str() {
        "bundle" | "bundle-universal" => {
            // A hand-run bundle lands in target/bundled like ours: say what kind of build it is.
            let kind = if rest.iter().any(|a| a == "--release") && !rest.iter().any(|a| a.contains("assert_process_allocs")) {
                RELEASE
            } else {
                "not a release build (bundled by hand without --release, or with test features)"
            };
            nice_plug_xtask::main_with_args("cargo xtask", std::iter::once(cmd).chain(rest))?;
            mark(&root.join(BUNDLED), kind)
        }
        "known-packages" => nice_plug_xtask::main_with_args("cargo xtask", std::iter::once(cmd).chain(rest)),
        "deps" => system::ensure(system::BUILD),
        "install" => install(&root),
        "windows" => windows_bundles(&root, rest.iter().any(|a| a == "--test")),
        "run" => run(&root, &rest),
        "test" => test(&root),
        "compare" => compare(&root, &rest),
        "charts" => charts::command(&root, &rest),
        "worst-case" => run_cmd(Command::new("cargo").args(["bench", "--bench", "worst_case"])),
        "fuzz" => fuzz(&root, &rest),
        "howl" => {
            // The example builds the crate (ALSA, JACK, X11 headers) and reads espeak-ng/sox.
            system::ensure(system::BUILD)?;
            system::ensure(system::TEST)?;
            run_cmd(Command::new("cargo").args(["run", "--release", "--example", "howl", "--"]).args(&rest))
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("unknown command '{other}'\n\n{USAGE}");
            std::process::exit(2);
        }
    }
}

fn workspace_root() -> Result<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Ok(dir.parent().context("xtask has no parent directory")?.to_path_buf())
}

pub fn run_cmd(cmd: &mut Command) -> Result<()> {
    eprintln!("+ {cmd:?}");
    let status = timed(&format!("{:?}", cmd.get_program()), || cmd.status()).with_context(|| format!("could not start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

/// The environment that makes cargo build the workspace's crates through clippy's driver with
/// its lints denied, as `cargo clippy -- -D warnings` does for a check. A separate `cargo clippy`
/// checked all 207 dependencies a second time, in check mode, which no build can reuse: 411 s of
/// a 1929 s CI run. Every Linux build of the test run uses it, so none rebuilds another's crates
/// (cargo keeps a build with the wrapper apart from one without: a plain `cargo test` afterwards
/// rebuilds the crate once, and does not lose this one). The Windows build does not: the driver
/// compiles with MIR optimisations off, which also drops rustc's debug checks of null and
/// misaligned pointers, and the Windows tests under Wine keep them for the unsafe code (the
/// plugin entry points, the ring buffers, the reverb's SIMD).
fn lint_env() -> Result<[(&'static str, std::ffi::OsString); 2]> {
    // The driver must be the compiler cargo builds with: `$RUSTC` when it is set.
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot =
        Command::new(&rustc).args(["--print", "sysroot"]).output().with_context(|| format!("could not run {}", rustc.to_string_lossy()))?;
    let driver = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim()).join("bin").join("clippy-driver");
    if !driver.exists() {
        bail!("{} is missing: install clippy (`rustup component add clippy`)", driver.display());
    }
    Ok([("RUSTC_WORKSPACE_WRAPPER", driver.into_os_string()), ("CLIPPY_ARGS", CLIPPY_ARGS.into())])
}

/// `-D warnings` for clippy's driver, the way cargo-clippy hands the driver its arguments; the
/// driver records it among a crate's dependencies (`linted`).
const CLIPPY_ARGS: &str = "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__";

/// Whether the Linux test build went through clippy's driver with its lints denied: the driver
/// records `CLIPPY_ARGS` among the crate's dependencies (its `.d` file). Without this check, a
/// build that silently ran without the wrapper would pass every lint. (Any of the crate's `.d`
/// files will do: on a fresh clone, CI's case, they are all this run's; a developer's target may
/// also hold plain builds, newer or older.)
fn linted(root: &Path) -> Result<()> {
    let deps = root.join("target/debug/deps");
    for entry in std::fs::read_dir(&deps).with_context(|| format!("could not read {}", deps.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with("livechain-")
            && name.ends_with(".d")
            && std::fs::read_to_string(&path).is_ok_and(|t| t.contains(&format!("env-dep:CLIPPY_ARGS={CLIPPY_ARGS}")))
        {
            return Ok(());
        }
    }
    bail!("no livechain-*.d in {} shows clippy's driver with its lints denied: the test build ran without the lints", deps.display())
}

/// Runs `f` and says how long it took, as "+ N s: label": CI's whole run has a budget, and this
/// says where it goes.
pub fn timed<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let started = std::time::Instant::now();
    let out = f();
    eprintln!("+ {:.0} s: {label}", started.elapsed().as_secs_f64());
    out
}

/// Where the release bundles land (nice-plug-xtask's folder), what `install` copies and
/// `compare` measures.
const BUNDLED: &str = "target/bundled";
/// Where the test bundles go: the debug build that aborts on an allocation in `process()`, never
/// mixed with the release bundles.
const TEST_BUNDLE: &str = "target/test-bundle";
/// The Windows bundles, release and test, each in a folder of its own.
const BUNDLED_WINDOWS: &str = "target/bundled-windows";
const TEST_BUNDLE_WINDOWS: &str = "target/test-bundle-windows";
/// Where `compare` leaves its figures (CSV) and their charts (SVG).
const COMPARE_OUT: &str = "target/compare";
/// The file in a bundle folder that says what kind of build it holds.
const MARK: &str = ".livechain-build";
const RELEASE: &str = "release";
/// The three things a bundle holds.
const ARTIFACTS: [&str; 3] = ["Livechain.clap", "Livechain.vst3", "Livechain"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Platform {
    Linux,
    Windows,
}

impl Platform {
    /// What a bundle of this platform holds: on Windows the CLAP is a DLL named `.clap`, the VST3
    /// a folder with `Contents/x86_64-win/Livechain.vst3`, the standalone `Livechain.exe`.
    fn artifacts(self) -> [&'static str; 3] {
        match self {
            Platform::Linux => ARTIFACTS,
            Platform::Windows => ["Livechain.clap", "Livechain.vst3", "Livechain.exe"],
        }
    }

    fn folder(self, release: bool) -> &'static str {
        match (self, release) {
            (Platform::Linux, true) => BUNDLED,
            (Platform::Linux, false) => TEST_BUNDLE,
            (Platform::Windows, true) => BUNDLED_WINDOWS,
            (Platform::Windows, false) => TEST_BUNDLE_WINDOWS,
        }
    }
}

fn mark(dir: &Path, kind: &str) -> Result<()> {
    std::fs::write(dir.join(MARK), format!("{kind}\n")).with_context(|| format!("writing {}", dir.join(MARK).display()))
}

/// Moves the artifacts named `names` from one folder to another (same file system), replacing
/// what was there.
fn move_artifacts(from: &Path, to: &Path, names: &[&str]) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for name in names {
        let (src, dst) = (from.join(name), to.join(name));
        if !src.exists() {
            continue;
        }
        if dst.is_dir() {
            std::fs::remove_dir_all(&dst)?;
        } else if dst.exists() {
            std::fs::remove_file(&dst)?;
        }
        std::fs::rename(&src, &dst).with_context(|| format!("moving {} to {}", src.display(), dst.display()))?;
    }
    Ok(())
}

/// Bundles the release build into `BUNDLED`, or the test build into `TEST_BUNDLE` (the Windows
/// builds into their own folders). nice-plug's bundler always writes into `BUNDLED`: for any
/// other build, the Linux release bundles there are moved aside first and put back after, so
/// running the tests or a Windows build never replaces them.
fn bundle(root: &Path, release: bool, platform: Platform) -> Result<()> {
    let mut args = vec!["bundle".to_string(), "livechain".to_string()];
    if release {
        args.push("--release".into());
    } else {
        // Test bundles abort on any allocation inside process(), in every host.
        args.extend(["--features".into(), "assert_process_allocs".into()]);
        // The same build also makes the tests that run after it: building a test turns on the
        // features the dev-dependencies ask of shared crates (serde, syn, zerocopy, miniz_oxide),
        // so a bundle built without them was built again, with two dozen crates under it, by
        // the `cargo test` that followed.
        args.extend(["--lib".into(), "--bins".into()]);
        match platform {
            // (The benches only to be linted: `cargo bench` builds them again in release.)
            Platform::Linux => args.extend(["--tests".into(), "--examples".into(), "--benches".into()]),
            Platform::Windows => args.extend(windows::WINE_TESTS.iter().flat_map(|t| ["--test".to_string(), t.to_string()])),
        }
    }
    if platform == Platform::Windows {
        args.extend(["--target".into(), WINDOWS_TARGET.into()]);
    }
    let bundled = root.join(BUNDLED);
    if release && platform == Platform::Linux {
        nice_plug_xtask::main_with_args("cargo xtask", args)?;
        return mark(&bundled, RELEASE);
    }
    let every: Vec<&str> = ARTIFACTS.iter().chain(&Platform::Windows.artifacts()).copied().collect();
    let kept = root.join("target/bundled.kept");
    move_artifacts(&bundled, &kept, &every)?;
    let kept_mark = std::fs::read_to_string(bundled.join(MARK)).ok();
    let built = nice_plug_xtask::main_with_args("cargo xtask", args);
    let dest = root.join(platform.folder(release));
    let moved = if built.is_ok() { move_artifacts(&bundled, &dest, &platform.artifacts()) } else { Ok(()) };
    move_artifacts(&kept, &bundled, &every)?;
    if let Some(m) = kept_mark {
        std::fs::write(bundled.join(MARK), m)?;
    }
    built?;
    moved?;
    mark(&dest, if release { RELEASE } else { "test (debug, assert_process_allocs): for the test hosts only" })
}

/// The release bundle folder, refusing one that holds anything else: a test build is 2.5x slower
/// and aborts its host on an allocation.
fn release_bundles(root: &Path) -> Result<PathBuf> {
    let bundled = root.join(BUNDLED);
    let kind = std::fs::read_to_string(bundled.join(MARK)).unwrap_or_default();
    if kind.trim() != RELEASE {
        let what = if kind.trim().is_empty() { "no mark saying what build it is".to_string() } else { kind.trim().to_string() };
        bail!("{} does not hold a release build ({what}): run `cargo xtask bundle livechain --release` first", bundled.display());
    }
    for name in ARTIFACTS {
        if !bundled.join(name).exists() {
            bail!("{} is missing: run `cargo xtask bundle livechain --release` first", bundled.join(name).display());
        }
    }
    Ok(bundled)
}

fn home() -> Result<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from).context("HOME is not set")
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        std::fs::remove_dir_all(to).with_context(|| format!("removing old {}", to.display()))?;
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn install(root: &Path) -> Result<()> {
    let bundled = release_bundles(root)?;
    let clap = bundled.join("Livechain.clap");
    let vst3 = bundled.join("Livechain.vst3");
    let home = home()?;
    std::fs::create_dir_all(home.join(".clap"))?;
    std::fs::copy(&clap, home.join(".clap/Livechain.clap"))?;
    copy_dir(&vst3, &home.join(".vst3/Livechain.vst3"))?;
    println!("installed {} and {}", home.join(".clap/Livechain.clap").display(), home.join(".vst3/Livechain.vst3").display());
    Ok(())
}

fn jack_running() -> bool {
    Command::new("jack_lsp")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .env("JACK_NO_START_SERVER", "1")
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A PipeWire daemon of this user's: its socket in the runtime folder.
fn pipewire_running() -> bool {
    let runtime = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from).or_else(|| {
        let uid = Command::new("id").arg("-u").output().ok()?;
        Some(PathBuf::from(format!("/run/user/{}", String::from_utf8_lossy(&uid.stdout).trim())))
    });
    runtime.is_some_and(|d| d.join("pipewire-0").exists())
}

fn alsa_card_present() -> bool {
    std::fs::read_to_string("/proc/asound/cards")
        .map(|s| s.lines().any(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit())))
        .unwrap_or(false)
}

fn run(root: &Path, extra: &[String]) -> Result<()> {
    system::ensure(system::BUILD)?;
    bundle(root, true, Platform::Linux)?;
    install(root)?;
    let standalone = root.join(BUNDLED).join("Livechain");
    let display = std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty());
    // A running JACK server first, then PipeWire (through its JACK API: the lowest latency it
    // offers, and every node's ports to connect to), then ALSA, then the demo.
    let mut through_pw_jack = false;
    let backend = if jack_running() {
        println!("a JACK server is running: using it");
        "jack"
    } else if pipewire_running() {
        system::ensure(&[system::Need { check: system::Check::Command("pw-jack"), debian: "pipewire-jack" }])?;
        println!("PipeWire is running: using it through its JACK API (pw-jack)");
        through_pw_jack = true;
        "jack"
    } else if alsa_card_present() {
        println!("no JACK server and no PipeWire, but an ALSA sound card: using ALSA");
        "alsa"
    } else {
        // No audio device: do the main job offline on the built-in demo, so the chain, the
        // meters and the DSP load can still be seen.
        println!("no audio device (no JACK server, no PipeWire, no ALSA card): rendering the built-in demo");
        run_cmd(Command::new(&standalone).args(["demo", "target/livechain-demo.wav"]))?;
        if !display {
            return Ok(());
        }
        "dummy"
    };
    println!("starting the standalone with the {backend} backend");
    let mut cmd = if through_pw_jack {
        let mut c = Command::new("pw-jack");
        c.arg(standalone);
        c
    } else {
        Command::new(standalone)
    };
    cmd.args(["--backend", backend]).args(extra);
    run_cmd(&mut cmd)
}

fn compare(root: &Path, rest: &[String]) -> Result<()> {
    system::ensure(system::BUILD)?;
    system::ensure(system::TEST)?;
    bundle(root, true, Platform::Linux)?;
    let bundled = release_bundles(root)?;
    let python = system::python_venv(root)?;
    let out = root.join(COMPARE_OUT);
    std::fs::create_dir_all(&out)?;
    let csv = out.join("compare.csv");
    // A stale file from an earlier run must not be drawn as this one's.
    let _ = std::fs::remove_file(&csv);
    let mut cmd = Command::new(&python);
    cmd.arg(root.join("benches/compare.py")).arg(bundled.join("Livechain.vst3")).args(rest).arg("--csv").arg(&csv);
    run_cmd(&mut cmd)?;
    if !csv.exists() {
        eprintln!("compare.py wrote no {}: no charts drawn", csv.display());
        return Ok(());
    }
    for path in charts::draw_file(&csv, &out)? {
        println!("chart: {}", path.display());
    }
    Ok(())
}

/// `cargo xtask windows`: the release bundles for Windows, or with `--test` the test bundles and
/// the tests that run them under Wine.
fn windows_bundles(root: &Path, test: bool) -> Result<()> {
    windows::ensure_toolchain()?;
    if !test {
        bundle(root, true, Platform::Windows)?;
        println!("Windows bundles in {}: Livechain.clap, Livechain.vst3, Livechain.exe", root.join(BUNDLED_WINDOWS).display());
        return Ok(());
    }
    system::ensure(system::TEST)?;
    bundle(root, false, Platform::Windows)?;
    let env = windows::prefix(root)?;
    let result = windows::run_tests(root, &env).and_then(|_| {
        run_cmd(
            Command::new("cargo")
                .args(["test", "--features", "livechain/assert_process_allocs", "--test", "windows", "--", "--include-ignored"])
                .envs(env.iter().cloned()),
        )
    });
    windows::stop(&env);
    result
}

fn fuzz(root: &Path, rest: &[String]) -> Result<()> {
    let seconds = match rest.first() {
        None => 300.0,
        Some(s) => match s.parse::<f64>() {
            Ok(v) if v > 0.0 => v,
            _ => bail!("fuzz: '{s}' is not a number of seconds (for example `cargo xtask fuzz 600`)"),
        },
    };
    system::ensure(system::BUILD)?;
    bundle(root, false, Platform::Linux)?;
    // Both targets at once, one per core; a case that kills the process stays in target/fuzz/.
    run_cmd(
        Command::new("cargo")
            .args([
                "test",
                "--features",
                "livechain/assert_process_allocs",
                "--test",
                "fuzz",
                "--",
                "--include-ignored",
                "--nocapture",
                "--test-threads",
                "2",
            ])
            .env("LIVECHAIN_FUZZ_SECONDS", seconds.to_string()),
    )
}

fn test(root: &Path) -> Result<()> {
    let started = std::time::Instant::now();
    system::ensure(system::BUILD)?;
    system::ensure(system::TEST)?;
    // The gates: formatting before anything is built, and clippy's lints (as errors) on every
    // workspace crate while it is built for the tests (`lint_env`).
    run_cmd(Command::new("cargo").args(["fmt", "--all", "--check"])).context("the code is not formatted: run `cargo fmt --all`")?;
    let lints = lint_env()?;
    const LINTED: &str =
        "the build failed: clippy's lints run in it (a deliberate habit is allowed in Cargo.toml's [lints.clippy], with the reason)";
    // xtask's own tests first (its lints fail fast): on their own, as the plugin's dependencies'
    // features (serde_json's) would change the plugin's build from the bundle's below; in
    // release, on the dependencies `cargo xtask` itself was built with (in dev they took 82 s to
    // build again).
    run_cmd(Command::new("cargo").args(["test", "-p", "xtask", "--release"]).envs(lints.iter().cloned())).context(LINTED)?;
    // (The bundle's build runs in this process: nice-plug-xtask's cargo inherits its environment.)
    for (key, value) in &lints {
        std::env::set_var(key, value);
    }
    let linux = timed("the Linux test bundle", || bundle(root, false, Platform::Linux));
    for (key, _) in &lints {
        std::env::remove_var(key);
    }
    linux.context(LINTED)?;
    linted(root)?;
    // The Windows test build too: tests/windows.rs compares it under Wine with the Linux one, and
    // the CLAP host tests run on it as Windows programs after the Linux run.
    timed("the Windows toolchain and test bundle", || {
        windows::ensure_toolchain()?;
        bundle(root, false, Platform::Windows)
    })?;
    let mut wine = windows::prefix(root)?;
    // tests/pipewire.rs reaches PipeWire through ALSA with this configuration.
    wine.push(("LIVECHAIN_PIPEWIRE_ALSA_CONF".into(), system::pipewire_alsa(root)?.display().to_string()));
    // Plain `cargo test` runs the tests that need nothing but the crate; the system tests (the
    // bundled plugin in a CLAP host and the validator, the standalone under JACK, ALSA and Xvfb)
    // are `#[ignore]`d there, and run here after the bundle they need.
    run_cmd(
        Command::new("cargo")
            .args(["test", "-p", "livechain", "--features", "livechain/assert_process_allocs", "--", "--include-ignored"])
            .envs(wine.iter().cloned())
            .envs(lints.iter().cloned()),
    )?;
    let on_wine = windows::run_tests(root, &wine);
    windows::stop(&wine);
    on_wine?;
    let python = system::python_venv(root)?;
    for host in ["tests/hosts/test_vst3.py", "tests/hosts/test_dawdreamer.py", "tests/hosts/test_vocoder.py"] {
        // The plugin's log goes to a file: pedalboard passes no buffers for the sidechain bus,
        // which the test build's wrapper reports once per block.
        run_cmd(
            Command::new(&python)
                .arg(root.join(host))
                .arg(root.join(TEST_BUNDLE).join("Livechain.vst3"))
                .env("NICE_LOG", root.join("target/test-hosts.log")),
        )?;
    }
    println!("cargo xtask test: everything passed in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a one-file crate in `dir` with `lint_env`, the code of its `main.rs` being `code`:
    /// whether it built, and what cargo said.
    fn build_probe(dir: &Path, code: &str) -> (bool, String) {
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"probe\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n")
            .unwrap();
        std::fs::write(dir.join("src/main.rs"), code).unwrap();
        let out = Command::new("cargo")
            .args(["build", "--offline", "--quiet"])
            .current_dir(dir)
            .env("CARGO_TARGET_DIR", dir.join("target"))
            .envs(lint_env().expect("clippy's driver"))
            .output()
            .expect("cargo runs");
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    }

    /// The lint gate of `cargo xtask test` is only an environment the driver reads: if a
    /// toolchain read it differently, the builds would pass with no lint run at all. A build
    /// with it must fail on a clippy lint (`len_zero`, which rustc alone does not know), with
    /// the lint named, and pass once the code is clean.
    #[test]
    fn the_build_denies_clippys_lints() {
        let dir = std::env::temp_dir().join(format!("livechain-lint-probe-{}", std::process::id()));
        let (built, said) = build_probe(&dir, "fn main() {\n    let v = std::env::args().collect::<Vec<_>>();\n    if v.len() == 0 {\n        println!(\"none\");\n    }\n}\n");
        assert!(!built, "a clippy lint did not fail the build: {said}");
        assert!(said.contains("len_zero"), "the build failed, but not on clippy's len_zero: {said}");
        let (built, said) = build_probe(&dir, "fn main() {\n    let v = std::env::args().collect::<Vec<_>>();\n    if v.is_empty() {\n        println!(\"none\");\n    }\n}\n");
        assert!(built, "clean code did not build under clippy's driver: {said}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
