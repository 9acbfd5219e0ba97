//! The committed fast batch (`tests/tests/difftest_batch.rs`) is exactly what the generator writes for
//! the seed, count and excluded units recorded in its header, so it cannot drift from the generator.

use adjoint_difftest::generator::{committed_file, parse_committed_header};

#[test]
fn committed_batch_is_what_the_generator_writes() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/tests/difftest_batch.rs");
    let committed = std::fs::read_to_string(path).expect("tests/tests/difftest_batch.rs");
    let (seed, count, excluded) =
        parse_committed_header(&committed).expect("a header with seed, count, excluded units");
    let fresh = committed_file(seed, count, &excluded);
    assert!(
        fresh == committed,
        "tests/tests/difftest_batch.rs differs from what the generator writes; regenerate it with\n  \
         cargo run -p adjoint-difftest -- --emit tests/tests/difftest_batch.rs --seed {seed} --count {count}"
    );
}

#[test]
fn generation_is_deterministic() {
    let a = adjoint_difftest::generator::generate(3, 10, 5);
    let b = adjoint_difftest::generator::generate(3, 10, 5);
    assert_eq!(a, b);
    // Unit u depends only on (seed, u): a batch can start anywhere in the stream.
    assert_eq!(adjoint_difftest::generator::generate(3, 12, 1)[0], a[2]);
}

#[test]
fn every_reproducer_is_a_test() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let tests = std::fs::read_to_string(format!("{root}/tests/tests/difftest_reproducers.rs"))
        .expect("tests/tests/difftest_reproducers.rs");
    let mut found = 0;
    for entry in std::fs::read_dir(format!("{root}/difftest/regressions")).expect("difftest/regressions") {
        let name = entry.expect("entry").file_name().into_string().expect("utf-8 name");
        if let Some(stem) = name.strip_suffix(".rs") {
            found += 1;
            let line = format!("#[path = \"../../difftest/regressions/{stem}.rs\"]\nmod r{stem};\n");
            assert!(
                tests.contains(&line),
                "difftest/regressions/{name} is not run by tests/tests/difftest_reproducers.rs"
            );
        }
    }
    assert!(found >= 10, "{found} reproducers");
}
