//! The long mode of the differential tester, and the writer of the committed fast batch.
//!
//! ```sh
//! cargo run --release -p adjoint-difftest -- --seed 7 --batches 100 --per-batch 100   # 10^4 programs
//! cargo run -p adjoint-difftest -- --emit tests/tests/difftest_batch.rs --seed 1 --count 300
//! ```
//!
//! Each batch is written as a crate to `target/difftest/batch/` (depending on `adjoint` by absolute
//! path, built in `target/difftest-target`), compiled and run. Units whose code does not compile are
//! found from the compiler's error locations, set aside and reported; the rest is rebuilt and run.
//! Failing units are written to `target/difftest/failures/`.

use adjoint_difftest::generator::{self, Mode, Unit};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

struct Opts {
    seed: u64,
    batches: usize,
    per_batch: usize,
    first: usize,
    emit: Option<PathBuf>,
    count: usize,
    release: bool,
}

fn parse_args() -> Opts {
    let mut o = Opts { seed: 1, batches: 10, per_batch: 100, first: 0, emit: None, count: 300, release: false };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut k = 0;
    while k < args.len() {
        let val = || args.get(k + 1).unwrap_or_else(|| panic!("{} needs a value", args[k])).clone();
        match args[k].as_str() {
            "--seed" => o.seed = val().parse().expect("--seed"),
            "--batches" => o.batches = val().parse().expect("--batches"),
            "--per-batch" => o.per_batch = val().parse().expect("--per-batch"),
            "--first" => o.first = val().parse().expect("--first"),
            "--count" => o.count = val().parse().expect("--count"),
            "--emit" => o.emit = Some(PathBuf::from(val())),
            "--release" => {
                o.release = true;
                k += 1;
                continue;
            }
            other => panic!("unknown option {other}; see the README (--seed --batches --per-batch --first --emit --count --release)"),
        }
        k += 2;
    }
    o
}

/// Why a unit was set aside.
#[derive(Clone)]
enum Failure {
    Compile(String),
    Runtime(String),
}

impl std::fmt::Debug for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Compile(e) => write!(f, "does not compile: {e}"),
            Failure::Runtime(e) => write!(f, "fails a check: {e}"),
        }
    }
}

struct BatchResult {
    failures: BTreeMap<usize, Failure>,
    stats: String,
}

/// The workspace whose `runtime/` (crate `adjoint`) the batches are built against: `$DIFFTEST_ADJOINT` if
/// set (a checkout of a fixed commit, while this tree is being edited), else this workspace.
fn workspace_root() -> PathBuf {
    match std::env::var_os("DIFFTEST_ADJOINT") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf(),
    }
}

/// Where batch crates, their builds and failures go: `$CARGO_TARGET_DIR` if set (so that concurrent runs
/// in different target directories do not share a batch crate), else the workspace's `target/`.
fn target_root() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").join("target"),
    }
}

/// Compiles and runs `units` as one crate; units that do not compile are removed and the rest retried.
fn run_batch(units: &[Unit], release: bool) -> BatchResult {
    let root = workspace_root();
    let dir = target_root().join("difftest/batch");
    std::fs::create_dir_all(dir.join("src")).expect("batch dir");
    let manifest = format!(
        "[package]\nname = \"difftest-batch\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nadjoint = {{ path = \"{}\" }}\n\n[workspace]\n",
        root.join("runtime").display()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("write Cargo.toml");
    let _ = std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"));
    let mut failures = BTreeMap::new();
    let mut live: Vec<Unit> = units.to_vec();
    let unit_index = |f: &generator::Unit| -> usize {
        let name = &f.functions.last().expect("unit has a function").name;
        name[2..].parse().expect("f_<unit>")
    };
    for _round in 0..8 {
        let src = generator::emit(&live, Mode::Main, "difftest batch");
        std::fs::write(dir.join("src/main.rs"), &src).expect("write main.rs");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.arg("run").arg("--quiet").arg("--offline").arg("--manifest-path").arg(dir.join("Cargo.toml"));
        if release {
            cmd.arg("--release");
        }
        cmd.env("CARGO_TARGET_DIR", target_root().join("difftest-target"));
        let out = cmd.output().expect("run cargo");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        if let Some(stats) = stdout.lines().find(|l| l.starts_with("DIFFTEST-STATS")) {
            for l in stdout.lines().filter_map(|l| l.strip_prefix("DIFFTEST-FAIL ")) {
                let name = l.split_whitespace().next().unwrap_or("");
                let u: usize = name[2..].split('_').next().and_then(|d| d.parse().ok()).unwrap_or(usize::MAX);
                failures.entry(u).or_insert_with(|| Failure::Runtime(l.to_string()));
            }
            return BatchResult { failures, stats: stats.to_string() };
        }
        // A compile error: attribute each error to the unit of the line it points at.
        let lines = generator::line_units(&src);
        let mut bad = BTreeMap::new();
        let mut current_error = String::new();
        for l in stderr.lines() {
            if l.starts_with("error") {
                current_error = l.to_string();
            } else if let Some(loc) = l.trim_start().strip_prefix("--> src/main.rs:") {
                let line: usize = loc.split(':').next().and_then(|n| n.parse().ok()).unwrap_or(0);
                if let Some(Some(u)) = lines.get(line.wrapping_sub(1)) {
                    bad.entry(*u).or_insert_with(|| format!("{current_error} (line {line})"));
                }
            }
        }
        if bad.is_empty() {
            panic!("the batch crate failed and no error could be attributed to a unit:\n{stderr}\n{stdout}");
        }
        for (u, e) in bad {
            failures.insert(u, Failure::Compile(e));
        }
        live.retain(|unit| !failures.contains_key(&unit_index(unit)));
    }
    panic!("the batch crate still does not compile after 8 rounds");
}

fn write_failure(seed: u64, u: usize, unit: &Unit, f: &Failure) -> PathBuf {
    let dir = target_root().join("difftest/failures");
    std::fs::create_dir_all(&dir).expect("failures dir");
    let mut src = format!("// seed {seed}, unit {u}: {f:?}\n");
    for func in &unit.functions {
        func.print(&mut src);
    }
    let path = dir.join(format!("seed{seed}_unit{u}.rs"));
    std::fs::write(&path, src).expect("write failure");
    path
}

fn main() {
    let o = parse_args();
    let t0 = Instant::now();
    if let Some(path) = &o.emit {
        let units = generator::generate(o.seed, 0, o.count);
        let r = run_batch(&units, o.release);
        let excluded: Vec<usize> = r.failures.keys().copied().collect();
        for (u, f) in &r.failures {
            let p = write_failure(o.seed, *u, &units[*u], f);
            println!("excluded unit {u}: {f:?}\n  -> {}", p.display());
        }
        let src = generator::committed_file(o.seed, o.count, &excluded);
        std::fs::write(path, src).expect("write the batch file");
        println!(
            "{}\nwrote {} ({} of {} units) in {:.1?}",
            r.stats,
            path.display(),
            o.count - excluded.len(),
            o.count,
            t0.elapsed()
        );
        return;
    }
    let (mut programs, mut compile_fail, mut runtime_fail) = (0, 0, 0);
    for b in 0..o.batches {
        let first = o.first + b * o.per_batch;
        let units = generator::generate(o.seed, first, o.per_batch);
        let tb = Instant::now();
        let r = run_batch(&units, o.release);
        programs += units.iter().map(|u| u.functions.len()).sum::<usize>();
        for (u, f) in &r.failures {
            match f {
                Failure::Compile(_) => compile_fail += 1,
                Failure::Runtime(_) => runtime_fail += 1,
            }
            let p = write_failure(o.seed, *u, &units[u - first], f);
            println!("  unit {u}: {f:?}\n    -> {}", p.display());
        }
        println!("batch {b} (units {first}..{}): {} [{:.1?}]", first + o.per_batch, r.stats, tb.elapsed());
    }
    println!(
        "total: {} units ({programs} functions), {compile_fail} units do not compile, {runtime_fail} fail a check, in {:.1?}",
        o.batches * o.per_batch,
        t0.elapsed()
    );
}
