//! Hessian-free Newton–CG: the Steihaug–Toint truncated conjugate-gradient method inside a trust region.

use super::{
    axpy, check_setting, dot, first_non_finite, norm, recoverable, start, stop_at, OptimError, Report,
    SecondOrderObjective, Termination,
};
use crate::objective::ObjectiveError;

/// Trust-region Newton–CG (Nocedal & Wright, *Numerical Optimization*, 2nd ed., §7.1, Algorithm 7.2,
/// "CG–Steihaug"; T. Steihaug, *SIAM J. Numer. Anal.* 20, 1983; Ph. Toint, 1981), Hessian-free: it
/// uses only Hessian-vector products and never forms or stores `H`. The settings, and
/// [`minimise`](Self::minimise) to run it.
///
/// Each iteration, at `x_k` with gradient `g` and trust-region radius `Δ` (stopping if
/// `‖g‖₂ ≤ gradient_tolerance`):
///
/// 1. **Truncated CG.** Minimise the quadratic model `m(p) = f + gᵀp + ½ pᵀHp` over `‖p‖ ≤ Δ` by
///    conjugate gradients from `p = 0`, one product `H d` per CG iteration, stopping at the first of
///    ([`CgExit`]):
///    - the residual `‖Hp + g‖ ≤ η_k ‖g‖`, with the forcing sequence `η_k = min(0.5, √‖g‖)` (§7.1), which
///      makes the iteration superlinearly convergent while solving loosely far from the minimum;
///    - a direction `d` of non-positive curvature, `dᵀHd ≤ 0`: the model is unbounded below along `d`,
///      so the step follows `d` to the boundary (where the model decreases, since `gᵀd < 0`). This is how
///      an indefinite Hessian is handled: a step away from a saddle, not towards it;
///    - the next CG iterate leaving the region: the step stops on the boundary;
///    - `max_cg_iterations`.
///
///    The first CG iterate is the Cauchy point, so every step decreases the model at least as much as
///    steepest descent would, which is what global convergence needs (§4.1).
/// 2. **Trust region** (§4.1, Algorithm 4.1). Evaluate `f(x + p)`; `ρ = (f(x) − f(x + p)) / (m(0) − m(p))`
///    (the predicted decrease comes from a vector `Hp` kept up to date by the CG iterations, no extra
///    product). Accept the step if `ρ > acceptance`. If `ρ < ¼` set `Δ = ¼‖p‖` (rather than `¼Δ`,
///    so a short interior step is not recomputed at an unchanged radius); if `ρ > ¾` and the step
///    reached the boundary, `Δ = min(2Δ, max_radius)`. A trial value of `+∞` or a recoverable error counts
///    as `ρ = −∞`: rejected, the region shrinks. Both decreases in `ρ` are shifted by `10ε|f(x)|`, the
///    rounding error of `f`, so that near the minimum, where the decrease is below what `f` resolves, the
///    model decides (`ρ ≈ 1`) rather than rounding noise (Conn, Gould & Toint, *Trust-Region Methods*,
///    SIAM 2000, ch. 17).
///
/// Cost per iteration: one product per CG iteration (reported per iteration), one value-and-gradient,
/// and `O(n)` memory (five vectors in CG). The alternative in §7.1, line-search Newton–CG
/// (Algorithm 7.1), stops CG at negative curvature and falls back to the last iterate or `−g`; the
/// trust region instead uses the negative-curvature direction, and controls the step length without a
/// line search.
///
/// ```
/// use adjoint::optim::{FnSecondOrder, NewtonCg};
///
/// // f = Σ wᵢ (cosh(xᵢ − 1) − 1) in 1000 dimensions, weights from 1 to 100: a Hessian diag(wᵢ cosh(xᵢ − 1))
/// // that is never formed.
/// let n = 1000;
/// let w: Vec<f64> = (0..n).map(|i| 1.0 + 99.0 * i as f64 / (n - 1) as f64).collect();
/// let f = FnSecondOrder::new(n, w,
///     |x, w: &Vec<f64>| x.iter().zip(w).map(|(xi, wi)| wi * ((xi - 1.0).cosh() - 1.0)).sum(),
///     |x, w, g| {
///         for i in 0..x.len() { g[i] = w[i] * (x[i] - 1.0).sinh() }
///         x.iter().zip(w).map(|(xi, wi)| wi * ((xi - 1.0).cosh() - 1.0)).sum()
///     },
///     |x, w, v, hv| for i in 0..x.len() { hv[i] = w[i] * (x[i] - 1.0).cosh() * v[i] });
/// let report = NewtonCg::default().minimise(&f, &vec![0.0; n])?;
/// assert!(report.converged());
/// assert!(report.x.iter().all(|xi| (xi - 1.0).abs() < 1e-9));
/// assert!(report.hessian_vector_products < n); // fewer products than one dense Hessian would take
/// # Ok::<(), adjoint::optim::OptimError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NewtonCg {
    /// The most outer iterations (trust-region subproblems solved, accepted or not); 1000 by default.
    pub max_iterations: usize,
    /// Stop when `‖∇f(x)‖₂` is at most this (absolute, non-negative); `1e-8` by default.
    pub gradient_tolerance: f64,
    /// The first trust-region radius `Δ₀` (positive, finite); 1 by default.
    pub initial_radius: f64,
    /// The largest radius, at least `initial_radius`; `1e8` by default.
    pub max_radius: f64,
    /// The threshold `η ∈ [0, ¼)` on `ρ` above which a step is accepted; `0.1` by default.
    pub acceptance: f64,
    /// The most CG iterations (Hessian-vector products) per subproblem; `None`, the default, is the
    /// dimension, where CG terminates in exact arithmetic.
    pub max_cg_iterations: Option<usize>,
}

impl Default for NewtonCg {
    fn default() -> Self {
        Self {
            max_iterations: 1000,
            gradient_tolerance: 1e-8,
            initial_radius: 1.0,
            max_radius: 1e8,
            acceptance: 0.1,
            max_cg_iterations: None,
        }
    }
}

/// Why the truncated CG of a [`NewtonCg`] iteration stopped.
///
/// ```
/// use adjoint::optim::{CgExit, FnSecondOrder, NewtonCg};
///
/// // At x = 0.1 on the double well x⁴/4 − x²/2, the curvature 3x² − 1 is negative: the first CG direction
/// // has negative curvature, and the step goes to the boundary of the trust region.
/// let f = FnSecondOrder::new(1, (), |x, _| x[0].powi(4) / 4.0 - x[0] * x[0] / 2.0,
///     |x, _, g| { g[0] = x[0].powi(3) - x[0]; x[0].powi(4) / 4.0 - x[0] * x[0] / 2.0 },
///     |x, _, v, hv| hv[0] = (3.0 * x[0] * x[0] - 1.0) * v[0]);
/// let report = NewtonCg { initial_radius: 0.5, ..NewtonCg::default() }.minimise(&f, &[0.1])?;
/// let first = &report.iterations[0];
/// assert_eq!(first.cg_exit, CgExit::NegativeCurvature);
/// assert_eq!(first.step_norm, 0.5);
/// assert!(report.converged() && (report.x[0] - 1.0).abs() < 1e-9);
/// assert_eq!(report.iterations.last().unwrap().cg_exit, CgExit::Converged);
/// # Ok::<(), adjoint::optim::OptimError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CgExit {
    /// The residual fell below `η_k ‖g‖`: an inexact Newton step inside the region.
    Converged,
    /// A direction of non-positive curvature: the step follows it to the boundary.
    NegativeCurvature,
    /// The next CG iterate would have left the region: the step stops on the boundary.
    Boundary,
    /// `max_cg_iterations` products were spent first.
    MaxIterations,
}

/// One iteration of [`NewtonCg`]: the iterate `x_k`, the subproblem solved there, and whether its step
/// was accepted.
///
/// ```
/// use adjoint::optim::{FnSecondOrder, NewtonCg};
///
/// let f = FnSecondOrder::new(2, (), |x, _| x[0].powi(4) + x[1] * x[1],
///     |x, _, g| { g[0] = 4.0 * x[0].powi(3); g[1] = 2.0 * x[1]; x[0].powi(4) + x[1] * x[1] },
///     |x, _, v, hv| { hv[0] = 12.0 * x[0] * x[0] * v[0]; hv[1] = 2.0 * v[1]; });
/// let report = NewtonCg::default().minimise(&f, &[2.0, 2.0])?;
/// let products: usize = report.iterations.iter().map(|it| it.hessian_vector_products).sum();
/// assert_eq!(products, report.hessian_vector_products);
/// for it in &report.iterations {
///     assert!(it.step_norm <= it.radius * (1.0 + 1e-12));
///     assert!(it.forcing <= 0.5);
/// }
/// # Ok::<(), adjoint::optim::OptimError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NewtonCgIteration {
    /// `k`, from 0.
    pub iteration: usize,
    /// `f(x_k)`.
    pub value: f64,
    /// `‖∇f(x_k)‖₂`.
    pub gradient_norm: f64,
    /// The trust-region radius `Δ_k` of the subproblem.
    pub radius: f64,
    /// The forcing term `η_k = min(0.5, √‖∇f(x_k)‖)`: CG stops at the residual `η_k ‖∇f(x_k)‖`.
    pub forcing: f64,
    /// Hessian-vector products spent on the subproblem, one per CG iteration.
    pub hessian_vector_products: usize,
    /// Why CG stopped.
    pub cg_exit: CgExit,
    /// `‖p‖₂`, the length of the step proposed.
    pub step_norm: f64,
    /// `ρ`, the actual over the predicted decrease; `−∞` if the trial point was rejected outright
    /// (`+∞`, an error).
    pub ratio: f64,
    /// Whether `x_{k+1} = x_k + p` (otherwise `x_{k+1} = x_k` with a smaller radius).
    pub accepted: bool,
}

/// What [`NewtonCg::minimise`] returns.
///
/// ```
/// use adjoint::optim::{FnSecondOrder, NewtonCg, NewtonCgReport};
///
/// let f = FnSecondOrder::new(1, (), |x, _| x[0].cosh(), |x, _, g| { g[0] = x[0].sinh(); x[0].cosh() },
///     |x, _, v, hv| hv[0] = x[0].cosh() * v[0]);
/// let report: NewtonCgReport = NewtonCg::default().minimise(&f, &[1.0])?;
/// assert!(report.converged() && report.x[0].abs() < 1e-8);
/// assert!(report.iterations.iter().all(|it| it.hessian_vector_products == 1)); // CG in one dimension
/// # Ok::<(), adjoint::optim::OptimError>(())
/// ```
pub type NewtonCgReport = Report<NewtonCgIteration>;

/// The result of one truncated CG solve: the step is in the `step` buffer.
struct Subproblem {
    exit: CgExit,
    products: usize,
    /// `m(0) − m(p) = −(gᵀp + ½ pᵀHp)`.
    predicted_decrease: f64,
}

/// The vectors of truncated CG, allocated once per run.
struct CgWork {
    step: Vec<f64>,
    hessian_step: Vec<f64>,
    residual: Vec<f64>,
    direction: Vec<f64>,
    hessian_direction: Vec<f64>,
}

impl NewtonCg {
    fn validate(&self) -> Result<(), OptimError> {
        let tol = self.gradient_tolerance;
        check_setting("gradient_tolerance", tol, tol >= 0.0, "non-negative")?;
        let r0 = self.initial_radius;
        check_setting("initial_radius", r0, r0 > 0.0 && r0.is_finite(), "positive and finite")?;
        check_setting("max_radius", self.max_radius, self.max_radius >= r0, "at least initial_radius")?;
        let eta = self.acceptance;
        check_setting("acceptance", eta, (0.0..0.25).contains(&eta), "in [0, 0.25)")?;
        if let Some(m) = self.max_cg_iterations {
            check_setting("max_cg_iterations", m as f64, m > 0, "at least 1")?;
        }
        Ok(())
    }

    /// Minimises `objective` from `x0`.
    ///
    /// Returns `Ok` with a [`Report`] once started, whatever the [`Termination`]; `Err` if the settings
    /// are out of range, `x0` has the wrong length or is not finite, the objective is `+∞` or fails at
    /// `x0`, or the objective fails with an error that is not
    /// [recoverable](crate::objective::ObjectiveError::is_recoverable).
    ///
    /// ```
    /// use adjoint::optim::{FnSecondOrder, NewtonCg, OptimError};
    ///
    /// // Rosenbrock's function from the classic start.
    /// let rosenbrock = FnSecondOrder::new(2, (),
    ///     |x, _| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2),
    ///     |x, _, g| {
    ///         g[0] = -2.0 * (1.0 - x[0]) - 400.0 * x[0] * (x[1] - x[0] * x[0]);
    ///         g[1] = 200.0 * (x[1] - x[0] * x[0]);
    ///         (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
    ///     },
    ///     |x, _, v, hv| {
    ///         let (h00, h01) = (2.0 - 400.0 * x[1] + 1200.0 * x[0] * x[0], -400.0 * x[0]);
    ///         hv[0] = h00 * v[0] + h01 * v[1];
    ///         hv[1] = h01 * v[0] + 200.0 * v[1];
    ///     });
    /// let report = NewtonCg::default().minimise(&rosenbrock, &[-1.2, 1.0])?;
    /// assert!(report.converged());
    /// assert!((report.x[0] - 1.0).abs() < 1e-8 && (report.x[1] - 1.0).abs() < 1e-8);
    ///
    /// let err = NewtonCg { initial_radius: 0.0, ..NewtonCg::default() }.minimise(&rosenbrock, &[-1.2, 1.0]);
    /// assert!(matches!(err, Err(OptimError::InvalidSettings { name: "initial_radius", .. })));
    /// # Ok::<(), OptimError>(())
    /// ```
    pub fn minimise<O: SecondOrderObjective + ?Sized>(
        &self,
        objective: &O,
        x0: &[f64],
    ) -> Result<NewtonCgReport, OptimError> {
        self.validate()?;
        let (mut x, mut value, mut g) = start(objective, x0)?;
        let n = x.len();
        let max_cg = self.max_cg_iterations.unwrap_or(n).max(1);
        let (mut x_new, mut g_new) = (vec![0.0; n], vec![0.0; n]);
        let mut work = CgWork {
            step: vec![0.0; n],
            hessian_step: vec![0.0; n],
            residual: vec![0.0; n],
            direction: vec![0.0; n],
            hessian_direction: vec![0.0; n],
        };
        let mut radius = self.initial_radius;
        let mut iterations = Vec::new();
        let (mut evaluations, mut hessian_vector_products) = (1, 0);

        let termination = loop {
            let gradient_norm = norm(&g);
            if let Some(stop) = stop_at(gradient_norm, self.gradient_tolerance, iterations.len(), self.max_iterations) {
                break stop;
            }
            let forcing = gradient_norm.sqrt().min(0.5);
            let solved = steihaug(objective, &x, &g, radius, forcing * gradient_norm, max_cg, &mut work);
            let subproblem = match solved {
                Ok(s) => s,
                Err((e, products)) => {
                    hessian_vector_products += products;
                    break recoverable(e)?;
                }
            };
            hessian_vector_products += subproblem.products;
            let step_norm = norm(&work.step);

            x_new.copy_from_slice(&x);
            axpy(1.0, &work.step, &mut x_new);
            evaluations += 1;
            // A predicted decrease that is not positive happens only through rounding, at the scale of the
            // gradient tolerance: the step is rejected and the region shrinks.
            let (trial, ratio) = match objective.value_and_gradient(&x_new, &mut g_new) {
                Ok(trial) if trial.is_finite() && subproblem.predicted_decrease > 0.0 => {
                    // Both decreases are shifted by the rounding error of f, so that a step whose effect is
                    // below it has ρ ≈ 1 and is decided by the model (Conn, Gould & Toint, *Trust-Region
                    // Methods*, SIAM 2000, ch. 17).
                    let rounding = 10.0 * f64::EPSILON * value.abs();
                    (trial, (value - trial + rounding) / (subproblem.predicted_decrease + rounding))
                }
                Ok(trial) => (trial, f64::NEG_INFINITY),
                Err(e) if e.is_recoverable() => (f64::NAN, f64::NEG_INFINITY),
                Err(e) => return Err(e.into()),
            };
            let accepted = ratio > self.acceptance;
            iterations.push(NewtonCgIteration {
                iteration: iterations.len(),
                value,
                gradient_norm,
                radius,
                forcing,
                hessian_vector_products: subproblem.products,
                cg_exit: subproblem.exit,
                step_norm,
                ratio,
                accepted,
            });
            if ratio < 0.25 {
                radius = 0.25 * step_norm;
            } else if ratio > 0.75 && step_norm >= (1.0 - 1e-6) * radius {
                radius = (2.0 * radius).min(self.max_radius);
            }
            if accepted {
                value = trial;
                std::mem::swap(&mut x, &mut x_new);
                std::mem::swap(&mut g, &mut g_new);
            }
            // The region has shrunk below the resolution of x: no step can change it any more.
            let resolution = f64::EPSILON * norm(&x).max(1.0);
            if !accepted && (radius <= resolution || radius.is_nan()) {
                break Termination::TrustRegionCollapsed;
            }
        };
        Ok(Report::finish(x, value, g, termination, iterations, evaluations, hessian_vector_products))
    }
}

/// The positive `τ` with `‖p + τ d‖ = Δ`, for `‖p‖ ≤ Δ`.
fn to_boundary(p: &[f64], d: &[f64], radius: f64) -> f64 {
    let (pd, dd) = (dot(p, d), dot(d, d));
    let room = (radius * radius - dot(p, p)).max(0.0);
    let root = (pd * pd + dd * room).sqrt();
    // Two algebraically equal forms; each avoids cancellation for one sign of pᵀd.
    if pd > 0.0 {
        room / (pd + root)
    } else {
        (root - pd) / dd
    }
}

/// Steihaug–Toint truncated CG (Nocedal & Wright, Algorithm 7.2) for `min gᵀp + ½ pᵀHp, ‖p‖ ≤ Δ`,
/// stopping at the residual `tolerance`. On error, the products spent so far come with it.
fn steihaug<O: SecondOrderObjective + ?Sized>(
    objective: &O,
    x: &[f64],
    g: &[f64],
    radius: f64,
    tolerance: f64,
    max_iterations: usize,
    work: &mut CgWork,
) -> Result<Subproblem, (ObjectiveError, usize)> {
    let CgWork { step: p, hessian_step: hp, residual: r, direction: d, hessian_direction: hd } = work;
    p.fill(0.0);
    hp.fill(0.0);
    r.copy_from_slice(g);
    d.iter_mut().zip(g).for_each(|(di, gi)| *di = -gi);
    let mut rr = dot(r, r);
    let mut products = 0;
    let mut exit = CgExit::MaxIterations;
    // ‖r₀‖ = ‖g‖ > tolerance: the caller has not converged, and η_k < 1.
    while products < max_iterations {
        products += 1;
        objective.hessian_vector_product(x, d, hd).map_err(|e| (e, products))?;
        if let Some(e) = first_non_finite("hessian-vector product", hd) {
            return Err((e, products));
        }
        let curvature = dot(d, hd);
        if curvature <= 0.0 || curvature.is_nan() {
            let tau = to_boundary(p, d, radius);
            axpy(tau, d, p);
            axpy(tau, hd, hp);
            exit = CgExit::NegativeCurvature;
            break;
        }
        let alpha = rr / curvature;
        // ‖p + αd‖² without forming p + αd.
        let next_norm_sq = dot(p, p) + 2.0 * alpha * dot(p, d) + alpha * alpha * dot(d, d);
        if next_norm_sq >= radius * radius {
            let tau = to_boundary(p, d, radius);
            axpy(tau, d, p);
            axpy(tau, hd, hp);
            exit = CgExit::Boundary;
            break;
        }
        axpy(alpha, d, p);
        axpy(alpha, hd, hp);
        axpy(alpha, hd, r);
        let rr_next = dot(r, r);
        if rr_next.sqrt() <= tolerance {
            exit = CgExit::Converged;
            break;
        }
        let beta = rr_next / rr;
        rr = rr_next;
        d.iter_mut().zip(r.iter()).for_each(|(di, ri)| *di = beta * *di - ri);
    }
    let predicted_decrease = -(dot(g, p) + 0.5 * dot(p, hp));
    Ok(Subproblem { exit, products, predicted_decrease })
}
