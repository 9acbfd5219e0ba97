//! The benchmark suite of `adjoint` (issue 6): the problems, written once each as an ordinary
//! `#[differentiable]` function together with a hand-written gradient and a generic version that the
//! peers (`num-dual`'s dual numbers, `reverse`'s tape) run on; the timing harness; and the checks that
//! every peer agrees with us before anything is timed.
//!
//! The benches live in `benches/` (`suite` is the comparison with the peers; `gradient`, `mlp` and
//! `hvp` are the detailed single-topic benches); `src/bin/compile_time.rs` measures build times.
//! BENCHMARKS.md at the repository root has the results and the commands.

pub mod check;
pub mod data;
pub mod harness;
pub mod peers;
pub mod problems;
pub mod scalar;
