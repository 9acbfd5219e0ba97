//! Tests of the second-order optimisers, on hand-written analytic Hessian-vector products.

use std::cell::Cell;
use std::sync::Arc;

use nalgebra::{DMatrix, DVector};

use super::*;

// ---- test problems ------------------------------------------------------------------------------

/// `f(x) = Σ (e^{dᵢ} − dᵢ) + ½ dᵀAd` with `d = x − c`: strictly convex, not quadratic (its third
/// derivative is 1 at the minimum `c`, so Newton converges exactly quadratically, not faster).
fn exp_bowl(a: DMatrix<f64>, c: Vec<f64>) -> impl SecondOrderObjective {
    let n = c.len();
    FnSecondOrder::new(
        n,
        (a, c),
        |x, (a, c): &(DMatrix<f64>, Vec<f64>)| {
            let d = DVector::from_iterator(x.len(), x.iter().zip(c).map(|(xi, ci)| xi - ci));
            d.iter().map(|di| di.exp() - di).sum::<f64>() + 0.5 * d.dot(&(a * &d))
        },
        |x, (a, c), g| {
            let d = DVector::from_iterator(x.len(), x.iter().zip(c).map(|(xi, ci)| xi - ci));
            let ad = a * &d;
            for i in 0..x.len() {
                g[i] = d[i].exp() - 1.0 + ad[i];
            }
            d.iter().map(|di| di.exp() - di).sum::<f64>() + 0.5 * d.dot(&ad)
        },
        |x, (a, c), v, hv| {
            let av = a * DVector::from_column_slice(v);
            for i in 0..x.len() {
                hv[i] = (x[i] - c[i]).exp() * v[i] + av[i];
            }
        },
    )
}

fn rosenbrock() -> impl SecondOrderObjective {
    FnSecondOrder::new(
        2,
        (),
        |x, _| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2),
        |x, _, g| {
            g[0] = -2.0 * (1.0 - x[0]) - 400.0 * x[0] * (x[1] - x[0] * x[0]);
            g[1] = 200.0 * (x[1] - x[0] * x[0]);
            (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
        },
        |x, _, v, hv| {
            let (h00, h01) = (2.0 - 400.0 * x[1] + 1200.0 * x[0] * x[0], -400.0 * x[0]);
            hv[0] = h00 * v[0] + h01 * v[1];
            hv[1] = h01 * v[0] + 200.0 * v[1];
        },
    )
}

/// `x⁴/4 − x²/2 + y²/2`: minima at `(±1, 0)`, a saddle at the origin, Hessian `diag(3x² − 1, 1)`.
fn double_well() -> impl SecondOrderObjective {
    fn f(x: &[f64]) -> f64 {
        x[0].powi(4) / 4.0 - x[0] * x[0] / 2.0 + x[1] * x[1] / 2.0
    }
    FnSecondOrder::new(
        2,
        (),
        |x, _| f(x),
        |x, _, g| {
            g[0] = x[0].powi(3) - x[0];
            g[1] = x[1];
            f(x)
        },
        |x, _, v, hv| {
            hv[0] = (3.0 * x[0] * x[0] - 1.0) * v[0];
            hv[1] = v[1];
        },
    )
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt()
}

fn spd_matrix() -> DMatrix<f64> {
    DMatrix::from_row_slice(3, 3, &[4.0, 1.0, 0.5, 1.0, 3.0, -0.5, 0.5, -0.5, 2.0])
}

// ---- Newton ---------------------------------------------------------------------------------------

#[test]
fn newton_converges_quadratically_on_a_strictly_convex_non_quadratic_function() {
    let c = vec![0.5, -1.0, 2.0];
    let f = exp_bowl(spd_matrix(), c.clone());
    let x0 = [3.0, 1.0, -1.0];
    let full = Newton { gradient_tolerance: 1e-13, ..Newton::default() }.minimise(&f, &x0).unwrap();
    assert_eq!(full.termination, Termination::Converged);
    assert!(distance(&full.x, &c) < 1e-14, "{:?}", full.x);

    // The iterates x_k, from runs stopped after k iterations (the method is deterministic).
    let errors: Vec<f64> = (0..=full.iterations.len())
        .map(|k| {
            let run = Newton { max_iterations: k, gradient_tolerance: 1e-13, ..Newton::default() };
            distance(&run.minimise(&f, &x0).unwrap().x, &c)
        })
        .collect();
    let mut ratios = Vec::new();
    for k in 0..errors.len() - 1 {
        let (e, e_next) = (errors[k], errors[k + 1]);
        println!("k = {k}: e = {e:.3e}, e_next / e² = {:.3}", e_next / (e * e));
        // In the quadratic phase, and above rounding.
        if e < 0.5 && e_next > 1e-13 {
            ratios.push(e_next / (e * e));
        }
    }
    assert!(ratios.len() >= 2, "{errors:?}");
    assert!(ratios.iter().all(|r| *r < 1.0), "e_(k+1) / e_k² is bounded: {ratios:?}");
    // Unit steps, no damping, once close.
    let last = full.iterations.last().unwrap();
    assert_eq!((last.step_length, last.damping), (1.0, 0.0));
    assert!(full.iterations.windows(2).all(|w| w[1].value < w[0].value), "monotone decrease");
    assert_eq!(full.hessian_vector_products, 3 * full.iterations.len());
}

#[test]
fn newton_reaches_the_minimum_of_a_quadratic_in_one_step() {
    let a = spd_matrix();
    let b = DVector::from_vec(vec![1.0, -2.0, 0.5]);
    let expected = a.clone().cholesky().unwrap().solve(&b);
    let f = FnSecondOrder::new(
        3,
        (a, b),
        |x, (a, b): &(DMatrix<f64>, DVector<f64>)| {
            let x = DVector::from_column_slice(x);
            0.5 * x.dot(&(a * &x)) - b.dot(&x)
        },
        |x, (a, b), g| {
            let x = DVector::from_column_slice(x);
            g.copy_from_slice((a * &x - b).as_slice());
            0.5 * x.dot(&(a * &x)) - b.dot(&x)
        },
        |_, (a, _), v, hv| hv.copy_from_slice((a * DVector::from_column_slice(v)).as_slice()),
    );
    let report = Newton::default().minimise(&f, &[10.0, -7.0, 3.0]).unwrap();
    assert_eq!(report.termination, Termination::Converged);
    assert_eq!(report.iterations.len(), 1);
    let it = report.iterations[0];
    assert_eq!((it.iteration, it.step_length, it.damping, it.evaluations), (0, 1.0, 0.0, 1));
    assert!(distance(&report.x, expected.as_slice()) < 1e-12, "{:?}", report.x);
    assert!(report.gradient_norm < 1e-12);
    assert_eq!((report.evaluations, report.hessian_vector_products), (2, 3));
}

#[test]
fn newton_solves_rosenbrock_from_the_classic_start() {
    let report =
        Newton { gradient_tolerance: 1e-12, ..Newton::default() }.minimise(&rosenbrock(), &[-1.2, 1.0]).unwrap();
    println!("Newton on Rosenbrock: {} iterations, {} evaluations", report.iterations.len(), report.evaluations);
    assert_eq!(report.termination, Termination::Converged);
    assert!(distance(&report.x, &[1.0, 1.0]) < 1e-10, "{:?}", report.x);
    assert!(report.iterations.len() < 30);
    // Every accepted step decreased f, and the last ones are unit steps.
    assert!(report.iterations.windows(2).all(|w| w[1].value < w[0].value));
    assert!(report.iterations.iter().rev().take(3).all(|it| it.step_length == 1.0));
    assert!(report.iterations.iter().any(|it| it.step_length < 1.0), "the line search was needed on the way");
}

#[test]
fn newton_damps_an_indefinite_hessian_and_leaves_a_saddle() {
    let f = double_well();
    for start in [[0.01, 1.0], [-0.2, -0.5]] {
        let report = Newton::default().minimise(&f, &start).unwrap();
        let first = report.iterations[0];
        assert!(first.damping > 0.0, "the Hessian at {start:?} is indefinite: {first:?}");
        assert!(report.converged());
        assert!(distance(&report.x, &[start[0].signum(), 0.0]) < 1e-9, "{:?}", report.x);
        assert!(report.iterations.windows(2).all(|w| w[1].value < w[0].value));
        assert!(report.value < -0.25 + 1e-15);
    }
    // Exactly at the saddle the gradient vanishes: that passes the first-order test (documented).
    let at_saddle = Newton::default().minimise(&f, &[0.0, 0.0]).unwrap();
    assert_eq!((at_saddle.termination.clone(), at_saddle.iterations.len()), (Termination::Converged, 0));
}

#[test]
fn newton_falls_back_to_steepest_descent_when_no_shift_is_tried_that_works() {
    // f = ½ xᵀHx + ¼‖x‖⁴ with H = [[1, 2], [2, 1]] (eigenvalues −1 and 3): positive diagonal, so the
    // first shift tried is 0, which fails; with one attempt allowed the step is −g.
    fn f(x: &[f64]) -> f64 {
        let r2 = x[0] * x[0] + x[1] * x[1];
        0.5 * (x[0] * x[0] + 4.0 * x[0] * x[1] + x[1] * x[1]) + 0.25 * r2 * r2
    }
    let objective = FnSecondOrder::new(
        2,
        (),
        |x, _| f(x),
        |x, _, g| {
            let r2 = x[0] * x[0] + x[1] * x[1];
            g[0] = x[0] + 2.0 * x[1] + r2 * x[0];
            g[1] = 2.0 * x[0] + x[1] + r2 * x[1];
            f(x)
        },
        |x, _, v, hv| {
            let r2 = x[0] * x[0] + x[1] * x[1];
            let xv = x[0] * v[0] + x[1] * v[1];
            hv[0] = v[0] + 2.0 * v[1] + r2 * v[0] + 2.0 * xv * x[0];
            hv[1] = 2.0 * v[0] + v[1] + r2 * v[1] + 2.0 * xv * x[1];
        },
    );
    let start = [0.1, 0.05];
    let one_attempt = Newton { max_damping_attempts: 1, ..Newton::default() };
    let report = one_attempt.minimise(&objective, &start).unwrap();
    assert_eq!(report.iterations[0].damping, f64::INFINITY);
    assert!(report.value < f(&start));
    // With the default number of attempts, a finite shift is found.
    let report = Newton::default().minimise(&objective, &start).unwrap();
    let first = report.iterations[0];
    assert!(first.damping > 0.0 && first.damping.is_finite(), "{first:?}");
    assert!(report.converged());
    // The minima are on the line x₀ = −x₁ with ‖x‖² = 1: ½(−1)‖x‖² + ¼‖x‖⁴ minimal at ‖x‖² = 1.
    assert!((report.x[0] + report.x[1]).abs() < 1e-9 && (distance(&report.x, &[0.0, 0.0]) - 1.0).abs() < 1e-9);
}

#[test]
fn newton_backtracks_from_points_outside_the_domain() {
    // f = x − ln x, minimal at 1; NaN (a recoverable error) for x < 0 and +∞ at 0. From x = 3 the Newton
    // step is −6: to −3 (NaN), then 0 (+∞), then 1.5.
    let f = FnSecondOrder::new(
        1,
        (),
        |x, _| x[0] - x[0].ln(),
        |x, _, g| {
            g[0] = 1.0 - 1.0 / x[0];
            x[0] - x[0].ln()
        },
        |x, _, v, hv| hv[0] = v[0] / (x[0] * x[0]),
    );
    let report = Newton::default().minimise(&f, &[3.0]).unwrap();
    let first = report.iterations[0];
    assert_eq!((first.step_length, first.evaluations), (0.25, 3));
    assert!(report.converged() && (report.x[0] - 1.0).abs() < 1e-9);

    let report = NewtonCg { initial_radius: 10.0, ..NewtonCg::default() }.minimise(&f, &[3.0]).unwrap();
    let first = report.iterations[0];
    assert_eq!((first.accepted, first.ratio), (false, f64::NEG_INFINITY));
    assert!(report.iterations[1].radius < 6.0);
    assert!(report.converged() && (report.x[0] - 1.0).abs() < 1e-9);
}

#[test]
fn a_line_search_that_cannot_decrease_f_ends_the_run_without_panicking() {
    // Rosenbrock with a gradient tolerance of 0: rounding stops the progress first.
    let report = Newton { gradient_tolerance: 0.0, ..Newton::default() }.minimise(&rosenbrock(), &[-1.2, 1.0]).unwrap();
    assert!(
        matches!(report.termination, Termination::Converged | Termination::LineSearchFailed),
        "{:?}",
        report.termination
    );
    assert!(distance(&report.x, &[1.0, 1.0]) < 1e-10);
    if report.termination == Termination::LineSearchFailed {
        assert_eq!(report.iterations.last().unwrap().step_length, 0.0);
    }

    let report =
        NewtonCg { gradient_tolerance: 0.0, ..NewtonCg::default() }.minimise(&rosenbrock(), &[-1.2, 1.0]).unwrap();
    assert!(
        matches!(
            report.termination,
            Termination::Converged | Termination::TrustRegionCollapsed | Termination::MaxIterations
        ),
        "{:?}",
        report.termination
    );
    assert!(distance(&report.x, &[1.0, 1.0]) < 1e-10, "{:?}", report.x);
}

// ---- Newton–CG ------------------------------------------------------------------------------------

/// `Σ wᵢ (cosh(xᵢ − cᵢ) − 1) + (xᵢ − cᵢ)⁴/4` (with `cosh d − 1` computed as `2 sinh²(d/2)`, accurate
/// near the minimum), with weights from 1 to 100 (so CG needs several iterations
/// per subproblem), counting its Hessian-vector products.
struct Separable {
    w: Vec<f64>,
    c: Vec<f64>,
    products: Cell<usize>,
}

#[allow(clippy::type_complexity)]
fn separable(
    n: usize,
) -> FnSecondOrder<
    Separable,
    impl Fn(&[f64], &Separable) -> f64,
    impl Fn(&[f64], &Separable, &mut [f64]) -> f64,
    impl Fn(&[f64], &Separable, &[f64], &mut [f64]),
> {
    let w = (0..n).map(|i| 1.0 + 99.0 * ((i * 7919) % n) as f64 / n as f64).collect();
    let c = (0..n).map(|i| (i as f64).sin()).collect();
    fn value(x: &[f64], s: &Separable) -> f64 {
        x.iter()
            .zip(&s.c)
            .zip(&s.w)
            .map(|((xi, ci), wi)| wi * 2.0 * ((xi - ci) / 2.0).sinh().powi(2) + (xi - ci).powi(4) / 4.0)
            .sum()
    }
    FnSecondOrder::new(
        n,
        Separable { w, c, products: Cell::new(0) },
        value,
        |x, s, g| {
            for i in 0..x.len() {
                let d = x[i] - s.c[i];
                g[i] = s.w[i] * d.sinh() + d.powi(3);
            }
            value(x, s)
        },
        |x, s, v, hv| {
            s.products.set(s.products.get() + 1);
            for i in 0..x.len() {
                let d = x[i] - s.c[i];
                hv[i] = (s.w[i] * d.cosh() + 3.0 * d * d) * v[i];
            }
        },
    )
}

#[test]
fn newton_cg_solves_a_ten_thousand_dimensional_problem_without_forming_the_hessian() {
    let n = 10_000;
    let f = separable(n);
    let x0 = vec![1.5; n];
    let report = NewtonCg::default().minimise(&f, &x0).unwrap();
    for it in &report.iterations {
        println!(
            "k = {:2}: f = {:.6e}, |g| = {:.3e}, radius = {:.2e}, eta = {:.2e}, HVPs = {:3}, {:?}, rho = {:.3}, accepted = {}",
            it.iteration, it.value, it.gradient_norm, it.radius, it.forcing, it.hessian_vector_products, it.cg_exit, it.ratio, it.accepted
        );
    }
    assert_eq!(report.termination, Termination::Converged);
    let max_error = report.x.iter().zip(&f.data().c).map(|(x, c)| (x - c).abs()).fold(0.0, f64::max);
    assert!(max_error < 1e-9, "{max_error}");
    // The counts are the calls made, per iteration and in total, and far fewer than the n products a
    // dense Hessian would take once.
    assert_eq!(report.hessian_vector_products, f.data().products.get());
    assert_eq!(
        report.iterations.iter().map(|it| it.hessian_vector_products).sum::<usize>(),
        report.hessian_vector_products
    );
    assert!(report.hessian_vector_products < n / 10, "{}", report.hessian_vector_products);
    assert_eq!(report.evaluations, 1 + report.iterations.len());
    // Truncated solves: several CG iterations, stopped by the forcing sequence, which tightens.
    let interior: Vec<_> = report.iterations.iter().filter(|it| it.cg_exit == CgExit::Converged).collect();
    assert!(interior.len() >= 5, "{interior:?}");
    assert!(interior.last().unwrap().hessian_vector_products >= 10);
    assert!(report.iterations.windows(2).all(|w| w[1].forcing <= w[0].forcing || !w[0].accepted));
    // Superlinear convergence at the end: the gradient norm ratio shrinks.
    let norms: Vec<f64> = report.iterations.iter().map(|it| it.gradient_norm).chain([report.gradient_norm]).collect();
    let k = norms.len();
    assert!(norms[k - 1] / norms[k - 2] < 0.5 * (norms[k - 2] / norms[k - 3]), "{norms:?}");
}

#[test]
fn newton_cg_follows_negative_curvature_away_from_a_saddle() {
    let f = double_well();
    for start in [[0.1, 0.0], [-0.05, 0.3], [0.01, 1.0]] {
        let report = NewtonCg::default().minimise(&f, &start).unwrap();
        assert!(
            report.iterations.iter().any(|it| it.cg_exit == CgExit::NegativeCurvature),
            "{start:?}: {:?}",
            report.iterations
        );
        assert!(report.converged());
        assert!(distance(&report.x, &[start[0].signum(), 0.0]) < 1e-9, "{start:?}: {:?}", report.x);
        assert!(report.iterations.iter().all(|it| it.step_norm <= it.radius * (1.0 + 1e-12)));
        // Accepted steps decrease f.
        let accepted: Vec<f64> = report.iterations.iter().filter(|it| it.accepted).map(|it| it.value).collect();
        assert!(accepted.windows(2).all(|w| w[1] < w[0]));
    }
}

#[test]
fn newton_cg_with_one_cg_iteration_is_a_trust_region_steepest_descent_and_still_converges() {
    let f = exp_bowl(spd_matrix(), vec![0.5, -1.0, 2.0]);
    let settings = NewtonCg { max_cg_iterations: Some(1), gradient_tolerance: 1e-9, ..NewtonCg::default() };
    let report = settings.minimise(&f, &[1.0, 0.0, 1.0]).unwrap();
    assert!(report.converged(), "{:?}", report.termination);
    assert!(report.iterations.iter().all(|it| it.hessian_vector_products == 1));
    assert!(report.iterations.iter().any(|it| it.cg_exit == CgExit::MaxIterations));
    assert!(distance(&report.x, &[0.5, -1.0, 2.0]) < 1e-8);
    // With full CG the same problem takes far fewer iterations.
    let full = NewtonCg { gradient_tolerance: 1e-9, ..NewtonCg::default() }.minimise(&f, &[1.0, 0.0, 1.0]).unwrap();
    assert!(full.iterations.len() < report.iterations.len());
}

#[test]
fn newton_cg_on_rosenbrock() {
    let report =
        NewtonCg { gradient_tolerance: 1e-11, ..NewtonCg::default() }.minimise(&rosenbrock(), &[-1.2, 1.0]).unwrap();
    println!(
        "Newton-CG on Rosenbrock: {} iterations, {} HVPs",
        report.iterations.len(),
        report.hessian_vector_products
    );
    assert!(report.converged());
    assert!(distance(&report.x, &[1.0, 1.0]) < 1e-10);
    assert!(report.iterations.len() < 60);
}

// ---- errors ---------------------------------------------------------------------------------------

#[test]
fn errors_at_the_start_are_returned_not_panics() {
    let f = rosenbrock();
    let mismatch = OptimError::Objective(ObjectiveError::DimensionMismatch { what: "x", expected: 2, found: 3 });
    assert_eq!(Newton::default().minimise(&f, &[1.0, 2.0, 3.0]), Err(mismatch.clone()));
    assert_eq!(NewtonCg::default().minimise(&f, &[1.0, 2.0, 3.0]), Err(mismatch));
    let nan = OptimError::Objective(ObjectiveError::NonFinite { what: "x", index: 1, value: f64::INFINITY });
    assert_eq!(Newton::default().minimise(&f, &[1.0, f64::INFINITY]), Err(nan.clone()));
    assert_eq!(NewtonCg::default().minimise(&f, &[1.0, f64::INFINITY]), Err(nan));

    // +∞ at the start: outside the domain.
    let wall = FnSecondOrder::new(1, (), |_, _| f64::INFINITY, |_, _, _| f64::INFINITY, |_, _, _, _| {});
    assert_eq!(Newton::default().minimise(&wall, &[0.0]), Err(OptimError::InfeasibleStart));
    assert_eq!(NewtonCg::default().minimise(&wall, &[0.0]), Err(OptimError::InfeasibleStart));
    assert!(OptimError::InfeasibleStart.to_string().contains("+inf at the starting point"));

    // A NaN value or gradient at the start.
    let nan_value = FnSecondOrder::new(1, (), |_, _| f64::NAN, |_, _, _| f64::NAN, |_, _, _, _| {});
    assert!(matches!(
        Newton::default().minimise(&nan_value, &[0.0]),
        Err(OptimError::Objective(ObjectiveError::NonFiniteValue { .. }))
    ));
    let nan_gradient = FnSecondOrder::new(
        1,
        (),
        |_, _| 0.0,
        |_, _, g| {
            g[0] = f64::NAN;
            0.0
        },
        |_, _, _, _| {},
    );
    assert!(matches!(
        NewtonCg::default().minimise(&nan_gradient, &[0.0]),
        Err(OptimError::Objective(ObjectiveError::NonFinite { what: "gradient", .. }))
    ));
}

#[test]
fn invalid_settings_are_errors() {
    let f = rosenbrock();
    let x0 = [0.0, 0.0];
    fn name<I: std::fmt::Debug>(r: Result<Report<I>, OptimError>) -> &'static str {
        match r {
            Err(OptimError::InvalidSettings { name, .. }) => name,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        name(Newton { gradient_tolerance: f64::NAN, ..Newton::default() }.minimise(&f, &x0)),
        "gradient_tolerance"
    );
    assert_eq!(name(Newton { initial_damping: 0.0, ..Newton::default() }.minimise(&f, &x0)), "initial_damping");
    assert_eq!(name(Newton { max_damping_attempts: 0, ..Newton::default() }.minimise(&f, &x0)), "max_damping_attempts");
    let bad_c1 = Newton { line_search: Backtracking { c1: 1.0, ..Backtracking::default() }, ..Newton::default() };
    assert_eq!(name(bad_c1.minimise(&f, &x0)), "line_search.c1");
    let bad_shrink =
        Newton { line_search: Backtracking { shrink: 0.0, ..Backtracking::default() }, ..Newton::default() };
    assert_eq!(name(bad_shrink.minimise(&f, &x0)), "line_search.shrink");
    assert_eq!(name(NewtonCg { max_radius: 0.5, ..NewtonCg::default() }.minimise(&f, &x0)), "max_radius");
    assert_eq!(name(NewtonCg { acceptance: 0.25, ..NewtonCg::default() }.minimise(&f, &x0)), "acceptance");
    assert_eq!(
        name(NewtonCg { max_cg_iterations: Some(0), ..NewtonCg::default() }.minimise(&f, &x0)),
        "max_cg_iterations"
    );
    assert_eq!(
        name(NewtonCg { initial_radius: f64::INFINITY, ..NewtonCg::default() }.minimise(&f, &x0)),
        "initial_radius"
    );
    let e = NewtonCg { acceptance: -1.0, ..NewtonCg::default() }.minimise(&f, &x0).unwrap_err();
    assert_eq!(e.to_string(), "invalid setting: acceptance is -1, expected in [0, 0.25)");
}

/// Rosenbrock whose Hessian-vector product becomes NaN once `x₀ > 0`, as a hand-written one might.
fn rosenbrock_with_bad_hvp(checked: bool) -> Box<dyn SecondOrderObjective> {
    struct Raw;
    impl Objective for Raw {
        fn dim(&self) -> usize {
            2
        }
        fn value(&self, x: &[f64]) -> Result<f64, ObjectiveError> {
            rosenbrock().value(x)
        }
        fn value_and_gradient(&self, x: &[f64], g: &mut [f64]) -> Result<f64, ObjectiveError> {
            rosenbrock().value_and_gradient(x, g)
        }
    }
    impl SecondOrderObjective for Raw {
        fn hessian_vector_product(&self, x: &[f64], v: &[f64], out: &mut [f64]) -> Result<(), ObjectiveError> {
            rosenbrock().hessian_vector_product(x, v, out)?;
            if x[0] > 0.0 {
                out[1] = f64::NAN; // breaks the contract: Ok with a NaN
            }
            Ok(())
        }
    }
    if checked {
        let hv = |x: &[f64], _: &(), v: &[f64], out: &mut [f64]| {
            rosenbrock().hessian_vector_product(x, v, out).unwrap();
            if x[0] > 0.0 {
                out[1] = f64::NAN;
            }
        };
        Box::new(FnSecondOrder::new(
            2,
            (),
            |x, _| rosenbrock().value(x).unwrap(),
            |x, _, g| rosenbrock().value_and_gradient(x, g).unwrap(),
            hv,
        ))
    } else {
        Box::new(Raw)
    }
}

#[test]
fn a_non_finite_hessian_vector_product_mid_run_ends_it_with_the_last_good_point() {
    for checked in [true, false] {
        let f = rosenbrock_with_bad_hvp(checked);
        for report in [
            Newton::default().minimise(&f, &[-1.2, 1.0]).map(|r| (r.termination, r.x, r.value, r.iterations.len())),
            NewtonCg::default().minimise(&f, &[-1.2, 1.0]).map(|r| (r.termination, r.x, r.value, r.iterations.len())),
        ] {
            let (termination, x, value, iterations) = report.unwrap();
            let Termination::NonFinite(e) = termination else { panic!("{termination:?}") };
            assert!(matches!(e, ObjectiveError::NonFinite { what: "hessian-vector product", index: 1, .. }), "{e:?}");
            assert!(x[0] > 0.0 && iterations > 0);
            assert_eq!(value, rosenbrock().value(&x).unwrap());
        }
    }
}

#[test]
fn a_non_recoverable_error_mid_run_is_returned() {
    struct Buggy;
    impl Objective for Buggy {
        fn dim(&self) -> usize {
            1
        }
        fn value(&self, x: &[f64]) -> Result<f64, ObjectiveError> {
            Ok(x[0] * x[0])
        }
        fn value_and_gradient(&self, x: &[f64], g: &mut [f64]) -> Result<f64, ObjectiveError> {
            if x[0] < 1.0 {
                return Err(ObjectiveError::Failed { message: "bug".into(), recoverable: false });
            }
            g[0] = 2.0 * x[0];
            Ok(x[0] * x[0])
        }
    }
    impl SecondOrderObjective for Buggy {
        fn hessian_vector_product(&self, _: &[f64], v: &[f64], out: &mut [f64]) -> Result<(), ObjectiveError> {
            out[0] = 2.0 * v[0];
            Ok(())
        }
    }
    let bug = OptimError::Objective(ObjectiveError::Failed { message: "bug".into(), recoverable: false });
    assert_eq!(Newton::default().minimise(&Buggy, &[2.0]), Err(bug.clone()));
    assert_eq!(NewtonCg::default().minimise(&Buggy, &[2.0]), Err(bug));
}

// ---- line search ----------------------------------------------------------------------------------

#[test]
fn line_search_errors() {
    let f = rosenbrock();
    let (x, mut x_new, mut g_new) = ([0.0, 0.0], [0.0; 2], [0.0; 2]);
    let g = f.gradient(&x).unwrap(); // [−2, 0]
    let value = f.value(&x).unwrap();
    let ls = Backtracking::default();
    assert_eq!(
        ls.search(&f, &x, value, &g, &[-1.0, 0.0], 1.0, &mut x_new, &mut g_new),
        Err(LineSearchError::NotDescent { slope: 2.0 })
    );
    assert_eq!(
        ls.search(&f, &x, value, &g, &[1.0], 1.0, &mut x_new, &mut g_new),
        Err(LineSearchError::Objective(ObjectiveError::DimensionMismatch { what: "direction", expected: 2, found: 1 }))
    );
    assert!(matches!(
        ls.search(&f, &x, value, &g, &[1.0, 0.0], 0.0, &mut x_new, &mut g_new),
        Err(LineSearchError::InvalidSettings(OptimError::InvalidSettings { name: "initial_step", .. }))
    ));
    let impatient = Backtracking { max_evaluations: 3, ..Backtracking::default() };
    // A step of 100 along +x₀ needs more than three halvings.
    let err = impatient.search(&f, &x, value, &g, &[100.0, 0.0], 1.0, &mut x_new, &mut g_new).unwrap_err();
    assert_eq!(err, LineSearchError::NoSufficientDecrease { evaluations: 3, last_step: 0.25 });
    assert_eq!(err.to_string(), "no sufficient decrease after 3 trial points (last step length 0.25)");
    // A step too short to change x.
    let err = ls.search(&f, &x, value, &g, &[1e-300, 0.0], 1e-30, &mut x_new, &mut g_new).unwrap_err();
    assert!(matches!(err, LineSearchError::NoSufficientDecrease { evaluations: 0, .. }), "{err:?}");
}

// ---- the adaptor ----------------------------------------------------------------------------------

#[test]
fn fn_second_order_checks_its_inputs_and_output() {
    let f = double_well();
    let mut hv = [7.0; 2];
    let mismatch = |what, found| ObjectiveError::DimensionMismatch { what, expected: 2, found };
    assert_eq!(f.hessian_vector_product(&[1.0], &[1.0, 0.0], &mut hv), Err(mismatch("x", 1)));
    assert_eq!(f.hessian_vector_product(&[1.0, 0.0], &[1.0, 0.0, 0.0], &mut hv), Err(mismatch("direction", 3)));
    assert_eq!(
        f.hessian_vector_product(&[1.0, 0.0], &[1.0, 0.0], &mut [0.0; 1]),
        Err(mismatch("hessian-vector product buffer", 1))
    );
    assert!(matches!(
        f.hessian_vector_product(&[f64::NAN, 0.0], &[1.0, 0.0], &mut hv),
        Err(ObjectiveError::NonFinite { what: "x", index: 0, .. })
    ));
    assert_eq!(
        f.hessian_vector_product(&[0.0, 0.0], &[1.0, f64::NEG_INFINITY], &mut hv),
        Err(ObjectiveError::NonFinite { what: "direction", index: 1, value: f64::NEG_INFINITY })
    );
    assert_eq!(hv, [7.0; 2], "untouched on an input error");
    f.hessian_vector_product(&[1.0, 0.0], &[1.0, 1.0], &mut hv).unwrap();
    assert_eq!(hv, [2.0, 1.0]);

    // The buffer is zeroed first, so an accumulating product works.
    let accumulate = FnSecondOrder::new(1, (), |x, _| x[0] * x[0], |_, _, _| 0.0, |_, _, v, hv| hv[0] += 2.0 * v[0]);
    let mut out = [100.0];
    accumulate.hessian_vector_product(&[0.0], &[3.0], &mut out).unwrap();
    assert_eq!(out, [6.0]);

    // A non-finite product is an error.
    let overflow = FnSecondOrder::new(1, (), |_, _| 0.0, |_, _, _| 0.0, |_, _, v, hv| hv[0] = v[0] * f64::MAX * 2.0);
    let err = overflow.hessian_vector_product(&[0.0], &[1.0], &mut out).unwrap_err();
    assert_eq!(err, ObjectiveError::NonFinite { what: "hessian-vector product", index: 0, value: f64::INFINITY });
    assert!(err.is_recoverable());

    // Value and gradient are FnObjective's.
    assert_eq!(f.value(&[1.0, 0.0]), Ok(-0.25));
    assert_eq!(f.gradient(&[2.0, 1.0]), Ok(vec![6.0, 1.0]));
    assert!(matches!(f.value(&[1.0]), Err(ObjectiveError::DimensionMismatch { what: "x", .. })));
}

#[test]
fn fn_second_order_debug_data_and_forwarding() {
    let f = FnSecondOrder::new(2, 1.5, |x, k: &f64| k * x[0], |_, _, _| 0.0, |_, _, _, _| {});
    assert_eq!(format!("{f:?}"), "FnSecondOrder { dim: 2, data: 1.5, .. }");
    assert_eq!(*f.data(), 1.5);

    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    let shared: Arc<dyn SecondOrderObjective + Send + Sync> = Arc::new(double_well_sync());
    assert_send_sync(&shared);
    let boxed: Box<dyn SecondOrderObjective> = Box::new(double_well());
    let mut a = [0.0; 2];
    let mut b = [0.0; 2];
    shared.hessian_vector_product(&[1.0, 0.0], &[1.0, 1.0], &mut a).unwrap();
    // Through the forwarding impls for `&T` and `Box<T>`.
    fn product<O: SecondOrderObjective>(o: O, out: &mut [f64]) {
        o.hessian_vector_product(&[1.0, 0.0], &[1.0, 1.0], out).unwrap();
    }
    product(&boxed, &mut b);
    assert_eq!(a, b);
    // The optimisers take trait objects and references.
    assert!(Newton::default().minimise(&shared, &[0.5, 0.5]).unwrap().converged());
    assert!(NewtonCg::default().minimise(&*boxed, &[0.5, 0.5]).unwrap().converged());
}

fn double_well_sync() -> impl SecondOrderObjective + Send + Sync {
    FnSecondOrder::new(
        2,
        (),
        |x: &[f64], _: &()| x[0].powi(4) / 4.0 - x[0] * x[0] / 2.0 + x[1] * x[1] / 2.0,
        |x: &[f64], _: &(), g: &mut [f64]| {
            g[0] = x[0].powi(3) - x[0];
            g[1] = x[1];
            x[0].powi(4) / 4.0 - x[0] * x[0] / 2.0 + x[1] * x[1] / 2.0
        },
        |x: &[f64], _: &(), v: &[f64], hv: &mut [f64]| {
            hv[0] = (3.0 * x[0] * x[0] - 1.0) * v[0];
            hv[1] = v[1];
        },
    )
}

#[test]
fn both_methods_converge_where_the_decrease_is_below_the_rounding_of_f() {
    // f = 10³ + the exponential bowl: near the minimum the decrease per step is far below ε·10³.
    let bowl = exp_bowl(spd_matrix(), vec![0.5, -1.0, 2.0]);
    let f = FnSecondOrder::new(
        3,
        bowl,
        |x, b| 1e3 + b.value(x).unwrap(),
        |x, b, g| 1e3 + b.value_and_gradient(x, g).unwrap(),
        |x, b, v, hv| b.hessian_vector_product(x, v, hv).unwrap(),
    );
    let x0 = [3.0, 1.0, -1.0];
    let newton = Newton { gradient_tolerance: 1e-11, ..Newton::default() }.minimise(&f, &x0).unwrap();
    assert_eq!(newton.termination, Termination::Converged, "{:?}", newton.iterations);
    let newton_cg = NewtonCg { gradient_tolerance: 1e-11, ..NewtonCg::default() }.minimise(&f, &x0).unwrap();
    assert_eq!(newton_cg.termination, Termination::Converged, "{:?}", newton_cg.iterations);
    for x in [&newton.x, &newton_cg.x] {
        assert!(distance(x, &[0.5, -1.0, 2.0]) < 1e-11, "{x:?}");
    }
}
