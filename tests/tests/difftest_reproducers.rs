//! Every reproducer of `difftest/regressions/` as a test: the shrunk functions, all their generated forms,
//! and the differential tester's checks on them. `cargo run -p adjoint-difftest -- --shrink U` adds a line
//! here when it writes a reproducer (which then fails until the bug is fixed); `cargo test -p
//! adjoint-difftest` checks that no reproducer is missing. What each one was is in
//! `difftest/regressions/README.md`; tests/tests/difftest_regressions.rs has hand-written tests of most.

#[path = "../../difftest/regressions/001.rs"]
mod r001;
#[path = "../../difftest/regressions/002.rs"]
mod r002;
#[path = "../../difftest/regressions/003.rs"]
mod r003;
#[path = "../../difftest/regressions/004.rs"]
mod r004;
#[path = "../../difftest/regressions/005.rs"]
mod r005;
#[path = "../../difftest/regressions/006.rs"]
mod r006;
#[path = "../../difftest/regressions/007.rs"]
mod r007;
#[path = "../../difftest/regressions/008.rs"]
mod r008;
#[path = "../../difftest/regressions/009.rs"]
mod r009;
#[path = "../../difftest/regressions/010.rs"]
mod r010;
#[path = "../../difftest/regressions/011.rs"]
mod r011;
#[path = "../../difftest/regressions/012.rs"]
mod r012;
