//! Differential testing of `#[differentiable]`: a generator of random programs in the supported subset
//! ([`generator`]), the checks run on them ([`checker_rt`]), and a shrinker ([`shrink`]) that reduces a
//! failing function to a minimal reproducer. The long mode is the `difftest` binary (see the README).

pub mod ast;
#[allow(clippy::type_complexity)]
pub mod checker_rt;
pub mod generator;
pub mod shrink;
