//! Differential testing of `#[differentiable]`: a generator of random programs in the supported subset
//! ([`generator`]), the checks run on them ([`checker_rt`]), and a shrinker ([`shrink`]) that reduces a
//! failing function to a minimal reproducer. The long mode is the `difftest` binary (see the README).

pub mod ast;
#[allow(clippy::type_complexity)]
pub mod checker_rt;
pub mod generator;
pub mod shrink;

/// Runs the checks of a reproducer (its `check_into`) and panics with every failure: the body of the
/// `#[test]` of each `difftest/regressions/NNN.rs`.
///
/// ```
/// use adjoint_difftest::checker_rt::{no_hvp, Checker, Forms};
///
/// fn check_into(c: &mut Checker) {
///     let f = |x: &[f64]| x[0] * x[0];
///     let forms = Forms {
///         f: &f,
///         grad: &|x| (f(x), vec![2.0 * x[0]]),
///         jvp: &|x, v| (f(x), 2.0 * x[0] * v[0]),
///         vjp: &|x, w, b| { b[0] += w * 2.0 * x[0]; f(x) },
///         grad_into: &|x, b| { b[0] = 2.0 * x[0]; f(x) },
///         hvp: &no_hvp,
///     };
///     c.check("square", 1, &forms);
/// }
/// adjoint_difftest::assert_passes(check_into);
/// ```
pub fn assert_passes(check_into: fn(&mut checker_rt::Checker)) {
    let mut c = checker_rt::Checker::new();
    check_into(&mut c);
    assert!(c.functions > 0 && c.points > 0, "nothing was checked");
    assert!(c.failures.is_empty(), "{}\n{}", c.failures.join("\n"), c.summary());
}
