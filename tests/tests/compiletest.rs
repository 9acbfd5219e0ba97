//! Compile-fail UI tests: every diagnostic of `#[differentiable]` at its span, one file each in `ui/`.
//!
//! Regenerate the snapshots with `TRYBUILD=overwrite cargo test -p adjoint-tests --test compiletest`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
