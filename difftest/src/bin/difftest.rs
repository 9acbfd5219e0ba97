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
//!
//! `--shrink U` regenerates unit `U` of `--seed`, checks that it fails, shrinks it (see
//! `adjoint_difftest::shrink`; `--chunk` candidates are compiled together per step) and writes the
//! minimal reproducer to `difftest/regressions/NNN.rs`, a regression test that
//! `tests/tests/difftest_reproducers.rs` runs from then on.

use adjoint_difftest::generator::{self, Unit};
use adjoint_difftest::shrink;
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
    shrink: Option<usize>,
    chunk: usize,
}

fn parse_args() -> Opts {
    let mut o = Opts {
        seed: 1,
        batches: 10,
        per_batch: 100,
        first: 0,
        emit: None,
        count: 300,
        release: false,
        shrink: None,
        chunk: 40,
    };
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
            "--shrink" => o.shrink = Some(val().parse().expect("--shrink <unit>")),
            "--chunk" => o.chunk = val().parse().expect("--chunk"),
            "--release" => {
                o.release = true;
                k += 1;
                continue;
            }
            other => panic!(
                "unknown option {other}; see the README (--seed --batches --per-batch --first --emit --count --release --shrink --chunk)"
            ),
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

/// Units per part crate of a batch (see [`generator::emit_part`]).
const UNITS_PER_PART: usize = 25;

/// Writes `contents` to `path` unless it already holds them (so that cargo does not rebuild the part).
fn write_if_changed(path: &Path, contents: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(contents) {
        std::fs::create_dir_all(path.parent().expect("a parent directory")).expect("create a directory");
        std::fs::write(path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

/// The unit number of a unit (from its top-level function `f_<u>`).
fn unit_index(unit: &Unit) -> usize {
    let name = &unit.functions.last().expect("unit has a function").name;
    name[2..].parse().expect("f_<unit>")
}

/// Compiles and runs `units`; units that do not compile are removed and the rest rebuilt and run.
///
/// The batch is a small workspace: `check` (the checks, built once), parts `part0`, `part1`, … of
/// [`UNITS_PER_PART`] units each (built in parallel; after a compile error only the parts that changed
/// are rebuilt) and the binary calling them.
fn run_batch(units: &[Unit], release: bool) -> BatchResult {
    let root = workspace_root();
    let dir = target_root().join("difftest/batch");
    let parts: Vec<Vec<Unit>> = units.chunks(UNITS_PER_PART).map(<[Unit]>::to_vec).collect();
    let dep = |k: usize| format!("part{k} = {{ path = \"part{k}\" }}\n");
    let members: Vec<String> = (0..parts.len()).map(|k| format!("\"part{k}\"")).collect();
    let manifest = format!(
        "[package]\nname = \"difftest-batch\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\ndifftest-check = {{ path = \"check\" }}\n{}\n\
         [workspace]\nmembers = [\"check\", {}]\n\n\
         # Compile time dominates a batch: no debug info, no incremental state, an optimised macro.\n\
         [profile.dev]\ndebug = 0\nincremental = false\n[profile.dev.build-override]\nopt-level = 3\n\
         [profile.release]\ndebug = 0\nincremental = false\n",
        (0..parts.len()).map(dep).collect::<String>(),
        members.join(", ")
    );
    write_if_changed(&dir.join("Cargo.toml"), &manifest);
    write_if_changed(
        &dir.join("check/Cargo.toml"),
        "[package]\nname = \"difftest-check\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n",
    );
    write_if_changed(&dir.join("check/src/lib.rs"), &format!("#![allow(warnings)]\n{}", generator::CHECKER_SOURCE));
    let part_manifest = |k: usize| {
        format!(
            "[package]\nname = \"part{k}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nadjoint = {{ path = \"{}\" }}\ndifftest-check = {{ path = \"../check\" }}\n\
             nalgebra = {{ version = \"0.33\", default-features = false, features = [\"std\"] }}\n",
            root.join("runtime").display()
        )
    };
    let calls: String = (0..parts.len()).map(|k| format!("    part{k}::check_into(&mut c);\n")).collect();
    let main = format!(
        "fn main() {{\n    let mut c = difftest_check::Checker::new();\n{calls}    for f in &c.failures {{\n        \
         println!(\"DIFFTEST-FAIL {{f}}\");\n    }}\n    println!(\"{{}}\", c.summary());\n}}\n"
    );
    write_if_changed(&dir.join("src/main.rs"), &main);
    if let Ok(lock) = std::fs::read_to_string(root.join("Cargo.lock")) {
        write_if_changed(&dir.join("Cargo.lock"), &lock);
    }
    let mut failures = BTreeMap::new();
    let mut live = parts;
    for _round in 0..8 {
        let mut sources = Vec::new();
        for (k, part) in live.iter().enumerate() {
            write_if_changed(&dir.join(format!("part{k}/Cargo.toml")), &part_manifest(k));
            let src = generator::emit_part(part);
            write_if_changed(&dir.join(format!("part{k}/src/lib.rs")), &src);
            sources.push(src);
        }
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
        let lines: Vec<Vec<Option<usize>>> = sources.iter().map(|s| generator::line_units(s)).collect();
        let mut bad = BTreeMap::new();
        let mut current_error = String::new();
        for l in stderr.lines() {
            if l.starts_with("error") {
                current_error = l.to_string();
            } else if let Some(loc) = l.trim_start().strip_prefix("--> ") {
                let Some((file, rest)) = loc.split_once("/src/lib.rs:") else { continue };
                let Some(k) =
                    file.rsplit('/').next().and_then(|p| p.strip_prefix("part")).and_then(|k| k.parse::<usize>().ok())
                else {
                    continue;
                };
                let line: usize = rest.split(':').next().and_then(|n| n.parse().ok()).unwrap_or(0);
                if let Some(Some(u)) = lines.get(k).and_then(|ls| ls.get(line.wrapping_sub(1))) {
                    bad.entry(*u).or_insert_with(|| format!("{current_error} (line {line})"));
                }
            }
        }
        if bad.is_empty() {
            // Not attributable (an error inside the runtime, a crash of the batch binary): every live unit
            // is set aside with it, so that the run goes on; the output is kept for inspection.
            let log = target_root().join("difftest/unattributed.log");
            let _ = std::fs::write(&log, format!("{stderr}\n{stdout}"));
            let first = stderr.lines().find(|l| l.starts_with("error")).unwrap_or("the batch binary crashed");
            for unit in live.iter().flatten() {
                failures.insert(
                    unit_index(unit),
                    Failure::Compile(format!("{first} (unattributed, see {})", log.display())),
                );
            }
            return BatchResult { failures, stats: String::from("DIFFTEST-STATS unattributed failure") };
        }
        for (u, e) in bad {
            failures.insert(u, Failure::Compile(e));
        }
        for part in &mut live {
            part.retain(|unit| !failures.contains_key(&unit_index(unit)));
        }
    }
    for unit in live.iter().flatten() {
        failures.insert(unit_index(unit), Failure::Compile("still does not compile after 8 rounds".into()));
    }
    BatchResult { failures, stats: String::from("DIFFTEST-STATS no stats (8 rounds of compile errors)") }
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

/// What a failure is, without its details (line numbers, values, coordinates): a shrunk variant must fail
/// the same way. For a compile error, the error line (`error[E0308]: mismatched types`); for a failed
/// check, its text up to the first number (`gradient[`, `JVP along [`, `panicked: index out of bounds`).
fn signature(f: &Failure) -> String {
    match f {
        Failure::Compile(e) => format!("compile: {}", e.split(" (line").next().unwrap_or(e)),
        Failure::Runtime(l) => {
            let what = l.split_once("]: ").map_or(l.as_str(), |(_, w)| w);
            let kind: String = what.chars().take_while(|c| !c.is_ascii_digit() && *c != '-').collect();
            format!("check: {}", kind.trim_end())
        }
    }
}

/// The point of a failed check (`f_3 at x = [..]: ...`).
fn failing_point(line: &str) -> Option<Vec<f64>> {
    let rest = line.split_once("at x = [")?.1;
    let list = rest.split_once(']')?.0;
    list.split(',').map(|v| v.trim().parse().ok()).collect()
}

/// The next free `difftest/regressions/NNN.rs` of this source tree.
fn next_regression_path() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let last = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".rs")?.parse::<usize>().ok())
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    dir.join(format!("{:03}.rs", last + 1))
}

/// The reproducer of `f` with `unit`, as a regression test (see [`generator::emit_reproducer`]): until
/// the bug is fixed it fails to compile or fails its checks, as the unit did.
fn reproducer(seed: u64, u: usize, unit: &Unit, f: &Failure) -> String {
    let what = match f {
        Failure::Compile(e) => format!("does not compile: {}", e.split(" (line").next().unwrap_or(e)),
        Failure::Runtime(l) => format!("wrong derivative: {l}"),
    };
    let header = format!(
        "Found by the differential tester (seed {seed}, unit {u}), shrunk by\n\
         `cargo run -p adjoint-difftest -- --seed {seed} --shrink {u}`:\n{what}"
    );
    generator::emit_reproducer(unit, &header)
}

/// The file that runs every reproducer as a test.
const REPRODUCER_TESTS: &str = "tests/tests/difftest_reproducers.rs";

/// Adds the reproducer at `path` (`difftest/regressions/NNN.rs`) to [`REPRODUCER_TESTS`], so that it runs
/// with `cargo test` from now on (and fails it until the bug is fixed).
fn register_reproducer(path: &Path) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(REPRODUCER_TESTS);
    let stem = path.file_stem().and_then(|s| s.to_str()).expect("NNN.rs");
    let line = format!("#[path = \"../../difftest/regressions/{stem}.rs\"]\nmod r{stem};\n");
    let mut src = std::fs::read_to_string(&file).expect("tests/tests/difftest_reproducers.rs");
    if !src.contains(&line) {
        src.push_str(&line);
        std::fs::write(&file, src).expect("write tests/tests/difftest_reproducers.rs");
    }
}

/// Shrinks unit `u` of `seed` (see the module docs) and writes the reproducer; returns its path.
fn shrink_unit(o: &Opts, u: usize) -> Option<PathBuf> {
    let unit = generator::generate(o.seed, u, 1).remove(0);
    let r = run_batch(std::slice::from_ref(&unit), o.release);
    let Some(f0) = r.failures.get(&u).cloned() else {
        println!("unit {u} of seed {} passes: nothing to shrink ({})", o.seed, r.stats);
        return None;
    };
    if matches!(&f0, Failure::Compile(e) if e.contains("unattributed")) {
        println!("unit {u}: {f0:?}\n  a failure of the harness, not of the unit: nothing to shrink");
        return None;
    }
    let sig = signature(&f0);
    println!("unit {u}: {f0:?}\n  shrinking while it fails with `{sig}` (size {})", shrink::size_key(&unit).0);
    let mut last = (unit.clone(), f0);
    let small = shrink::shrink(
        &unit,
        o.chunk,
        |cands| {
            let batch: Vec<Unit> = cands.iter().enumerate().map(|(i, c)| shrink::renamed(c, i)).collect();
            let r = run_batch(&batch, o.release);
            let verdicts: Vec<bool> =
                (0..batch.len()).map(|i| r.failures.get(&i).is_some_and(|f| signature(f) == sig)).collect();
            if let Some(i) = verdicts.iter().position(|&b| b) {
                last = (cands[i].clone(), r.failures[&i].clone());
            }
            verdicts
        },
        |v| println!("  size {}", shrink::size_key(v).0),
    );
    let (small_unit, failure) = if last.0 == small { last } else { (small.clone(), Failure::Runtime(String::new())) };
    // The candidates were renamed apart (`f_0`, `g_0_1`, …): back to the unit's own names.
    let failure = match failure {
        Failure::Runtime(l) => {
            let (name, rest) = l.split_once(' ').unwrap_or((&l, ""));
            let own = match name.strip_prefix("g_").and_then(|r| r.rsplit('_').next()) {
                Some(j) => format!("g_{u}_{j}"),
                None => format!("f_{u}"),
            };
            Failure::Runtime(format!("{own} {rest}"))
        }
        c => c,
    };
    let src = reproducer(o.seed, u, &small_unit, &failure);
    let path = next_regression_path();
    std::fs::write(&path, src).expect("write the reproducer");
    register_reproducer(&path);
    println!(
        "minimal reproducer ({} functions, size {}):\n{}",
        small_unit.functions.len(),
        shrink::size_key(&small_unit).0,
        shrink::source(&small_unit)
    );
    if let Failure::Runtime(l) = &failure {
        if let Some(x) = failing_point(l) {
            println!("failing point: {x:?}");
        }
    }
    println!("wrote {} (a test in {REPRODUCER_TESTS} from now on)", path.display());
    Some(path)
}

/// Sums of the `key=value` fields of `DIFFTEST-STATS` lines.
#[derive(Default)]
struct Totals(BTreeMap<String, u64>);

impl Totals {
    fn add(&mut self, stats: &str) {
        for kv in stats.split_whitespace().skip(1) {
            if let Some((k, v)) = kv.split_once('=') {
                if let Ok(v) = v.parse::<u64>() {
                    *self.0.entry(k.to_string()).or_default() += v;
                }
            }
        }
    }

    fn line(&self) -> String {
        self.0.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
    }
}

fn main() {
    let o = parse_args();
    let t0 = Instant::now();
    if let Some(u) = o.shrink {
        shrink_unit(&o, u);
        return;
    }
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
    let mut totals = Totals::default();
    let mut coverage = BTreeMap::new();
    for b in 0..o.batches {
        let first = o.first + b * o.per_batch;
        let units = generator::generate(o.seed, first, o.per_batch);
        for (k, n) in generator::coverage(&units) {
            *coverage.entry(k).or_insert(0) += n;
        }
        let tb = Instant::now();
        // A harness error in one batch is reported and the run goes on.
        let r = match std::panic::catch_unwind(|| run_batch(&units, o.release)) {
            Ok(r) => r,
            Err(_) => {
                println!("batch {b} (units {first}..{}): HARNESS ERROR (see above)", first + o.per_batch);
                continue;
            }
        };
        programs += units.iter().map(|u| u.functions.len()).sum::<usize>();
        totals.add(&r.stats);
        for (u, f) in &r.failures {
            match f {
                Failure::Compile(_) => compile_fail += 1,
                Failure::Runtime(_) => runtime_fail += 1,
            }
            // A unit outside the batch can only come from a broken batch directory (another process
            // writing to it): reported, not a panic of the run.
            let Some(unit) = u.checked_sub(first).and_then(|k| units.get(k)) else {
                println!(
                    "  unit {u}: {f:?}\n    HARNESS ERROR: not a unit of this batch ({first}..{})",
                    first + o.per_batch
                );
                continue;
            };
            let p = write_failure(o.seed, *u, unit, f);
            println!("  unit {u}: {f:?}\n    -> {}", p.display());
        }
        println!(
            "batch {b} (units {first}..{}): {} [{:.1?}, total {:.1?}]",
            first + o.per_batch,
            r.stats,
            tb.elapsed(),
            t0.elapsed()
        );
    }
    println!(
        "constructs generated (occurrences): {}",
        coverage.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
    );
    println!("checks (units that compiled): {}", totals.line());
    println!(
        "total: {} units ({programs} functions), {compile_fail} units do not compile, {runtime_fail} fail a check, in {:.1?}",
        o.batches * o.per_batch,
        t0.elapsed()
    );
}
