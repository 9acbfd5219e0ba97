//! Newton's method with a dense Hessian, a damping rule for indefinite Hessians, and a backtracking
//! line search.

use nalgebra::{Cholesky, DMatrix, DVector};

use super::line_search::{Backtracking, LineSearchError};
use super::{
    check_setting, dot, first_non_finite, norm, recoverable, start, stop_at, OptimError, Report, SecondOrderObjective,
    Termination,
};

/// Newton's method with Hessian modification and a backtracking Armijo line search (Nocedal & Wright,
/// *Numerical Optimization*, 2nd ed., §3.4, Algorithm 3.2): the settings, and
/// [`minimise`](Self::minimise) to run it.
///
/// Each iteration, at `x_k` with gradient `g` (stopping if `‖g‖₂ ≤ gradient_tolerance`):
///
/// 1. **Hessian.** `H = ∇²f(x_k)` column by column, `H eᵢ` for `i = 1..n` (`n` Hessian-vector
///    products), symmetrised as `(H + Hᵀ)/2` against rounding.
/// 2. **Damping** (Levenberg's shift, the "Cholesky with added multiple of the identity" of §3.4,
///    Algorithm 3.3). Factorise `H + λI = LLᵀ` for `λ = λ₀, λ₁, …` with `λⱼ₊₁ = max(2λⱼ, β)`, where
///    `β = initial_damping · ‖H‖_F` and `λ₀ = 0` if every diagonal entry of `H` is positive, else
///    `β − min Hᵢᵢ`. The first `λ` for which the factorisation succeeds (with every pivot `Lⱼⱼ² > ε‖H + λI‖_F`,
///    so nearly singular matrices count as failures) and gives a finite `p` with `gᵀp < 0` is used:
///    `p = −(H + λI)⁻¹ g`. A positive definite matrix gives a descent direction, so `p` always points
///    downhill: towards the Newton step as `λ → 0` and towards the steepest-descent direction `−g/λ` as
///    `λ → ∞`. The shift is scaled by `‖H‖_F`, so the rule does not depend on the scale of `f`. Near a
///    minimum with positive definite Hessian `λ = 0`: the pure Newton step. If `max_damping_attempts`
///    shifts all fail (only for Hessians near overflow), `p = −g`, recorded as damping `+∞`.
/// 3. **Line search.** Backtrack from `α = 1` along `p` until `f(x + αp) ≤ f(x) + c₁ α gᵀp`
///    ([`Backtracking`], §3.1). Near the minimum the unit step is accepted and convergence is quadratic
///    (§3.3, Theorem 3.5).
///
/// Cost per iteration: `n` Hessian-vector products, one `O(n³)` factorisation per shift tried, `O(n²)`
/// memory. For large `n` use [`NewtonCg`](super::NewtonCg), which never forms `H`.
///
/// ```
/// use adjoint::optim::{FnSecondOrder, Newton};
///
/// // Rosenbrock's function, with its analytic Hessian-vector product.
/// let rosenbrock = FnSecondOrder::new(
///     2,
///     (),
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
///     },
/// );
/// let report = Newton { gradient_tolerance: 1e-12, ..Newton::default() }.minimise(&rosenbrock, &[-1.2, 1.0])?;
/// assert!(report.converged());
/// assert!((report.x[0] - 1.0).abs() < 1e-10 && (report.x[1] - 1.0).abs() < 1e-10);
/// assert!(report.iterations.len() < 30);
/// assert_eq!(report.hessian_vector_products, 2 * report.iterations.len());
/// # Ok::<(), adjoint::optim::OptimError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Newton {
    /// The most iterations (Newton steps); 100 by default.
    pub max_iterations: usize,
    /// Stop when `‖∇f(x)‖₂` is at most this (absolute, non-negative); `1e-8` by default.
    pub gradient_tolerance: f64,
    /// The line search; [`Backtracking::default`] (`c₁ = 10⁻⁴`, halving) by default.
    pub line_search: Backtracking,
    /// The smallest shift, relative to `‖H‖_F`, the damping rule tries when `H` is not positive definite
    /// (positive); `1e-3` by default, the value of Nocedal & Wright's Algorithm 3.3.
    pub initial_damping: f64,
    /// The most shifts tried per iteration (at least 1); 60 by default.
    pub max_damping_attempts: usize,
}

impl Default for Newton {
    fn default() -> Self {
        Self {
            max_iterations: 100,
            gradient_tolerance: 1e-8,
            line_search: Backtracking::default(),
            initial_damping: 1e-3,
            max_damping_attempts: 60,
        }
    }
}

/// One iteration of [`Newton`]: the iterate `x_k` and the step taken from it.
///
/// ```
/// use adjoint::optim::{FnSecondOrder, Newton};
///
/// // A double well, f = x⁴/4 − x²/2 + y²/2, started next to its saddle at the origin, where the Hessian
/// // diag(3x² − 1, 1) is indefinite: the first step needs damping, and goes downhill, away from the saddle.
/// let f = FnSecondOrder::new(2, (),
///     |x, _| x[0].powi(4) / 4.0 - x[0] * x[0] / 2.0 + x[1] * x[1] / 2.0,
///     |x, _, g| { g[0] = x[0].powi(3) - x[0]; g[1] = x[1]; x[0].powi(4) / 4.0 - x[0] * x[0] / 2.0 + x[1] * x[1] / 2.0 },
///     |x, _, v, hv| { hv[0] = (3.0 * x[0] * x[0] - 1.0) * v[0]; hv[1] = v[1]; });
/// let report = Newton::default().minimise(&f, &[0.01, 1.0])?;
/// let first = &report.iterations[0];
/// assert!(first.damping > 1.0); // enough to make H + λI positive definite
/// assert!(first.step_length < 1.0); // and the line search shortens the long step that results
/// assert!(report.converged() && (report.x[0] - 1.0).abs() < 1e-9);
/// assert_eq!(report.iterations.last().unwrap().damping, 0.0); // pure Newton steps at the end
/// # Ok::<(), adjoint::optim::OptimError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NewtonIteration {
    /// `k`, from 0.
    pub iteration: usize,
    /// `f(x_k)`.
    pub value: f64,
    /// `‖∇f(x_k)‖₂`.
    pub gradient_norm: f64,
    /// The shift `λ` added to the Hessian: 0 where it was positive definite, `+∞` where the step fell
    /// back to steepest descent.
    pub damping: f64,
    /// The accepted step length `α` along `p`, or 0 if the line search failed (the last record then).
    pub step_length: f64,
    /// Trial points the line search evaluated.
    pub evaluations: usize,
}

/// What [`Newton::minimise`] returns.
///
/// ```
/// use adjoint::optim::{FnSecondOrder, Newton, NewtonReport};
///
/// let f = FnSecondOrder::new(1, (), |x, _| x[0].cosh(), |x, _, g| { g[0] = x[0].sinh(); x[0].cosh() },
///     |x, _, v, hv| hv[0] = x[0].cosh() * v[0]);
/// let report: NewtonReport = Newton::default().minimise(&f, &[1.0])?;
/// assert!(report.converged() && report.x[0].abs() < 1e-12);
/// assert!(report.iterations.iter().all(|it| it.damping == 0.0)); // cosh is convex
/// # Ok::<(), adjoint::optim::OptimError>(())
/// ```
pub type NewtonReport = Report<NewtonIteration>;

impl Newton {
    fn validate(&self) -> Result<(), OptimError> {
        let tol = self.gradient_tolerance;
        check_setting("gradient_tolerance", tol, tol >= 0.0, "non-negative")?;
        let beta = self.initial_damping;
        check_setting("initial_damping", beta, beta > 0.0 && beta.is_finite(), "positive and finite")?;
        let attempts = self.max_damping_attempts;
        check_setting("max_damping_attempts", attempts as f64, attempts > 0, "at least 1")?;
        self.line_search.validate()
    }

    /// Minimises `objective` from `x0`.
    ///
    /// Returns `Ok` with a [`Report`] once started, whatever the [`Termination`]; `Err` if the settings
    /// are out of range, `x0` has the wrong length or is not finite, the objective is `+∞` or fails at
    /// `x0`, or the objective fails with an error that is not
    /// [recoverable](crate::objective::ObjectiveError::is_recoverable).
    ///
    /// ```
    /// use adjoint::optim::{FnSecondOrder, Newton, OptimError};
    ///
    /// // A strictly convex quadratic ½ xᵀAx − bᵀx: one Newton step lands on A⁻¹b.
    /// let f = FnSecondOrder::new(2, (),
    ///     |x, _| 0.5 * (4.0 * x[0] * x[0] + 2.0 * x[0] * x[1] + 3.0 * x[1] * x[1]) - x[0] - 2.0 * x[1],
    ///     |x, _, g| {
    ///         g[0] = 4.0 * x[0] + x[1] - 1.0;
    ///         g[1] = x[0] + 3.0 * x[1] - 2.0;
    ///         0.5 * (4.0 * x[0] * x[0] + 2.0 * x[0] * x[1] + 3.0 * x[1] * x[1]) - x[0] - 2.0 * x[1]
    ///     },
    ///     |_, _, v, hv| { hv[0] = 4.0 * v[0] + v[1]; hv[1] = v[0] + 3.0 * v[1]; });
    /// let report = Newton::default().minimise(&f, &[10.0, -10.0])?;
    /// assert_eq!(report.iterations.len(), 1);
    /// assert!((report.x[0] - 1.0 / 11.0).abs() < 1e-15 && (report.x[1] - 7.0 / 11.0).abs() < 1e-15);
    ///
    /// assert!(matches!(Newton::default().minimise(&f, &[f64::NAN, 0.0]), Err(OptimError::Objective(_))));
    /// # Ok::<(), OptimError>(())
    /// ```
    pub fn minimise<O: SecondOrderObjective + ?Sized>(
        &self,
        objective: &O,
        x0: &[f64],
    ) -> Result<NewtonReport, OptimError> {
        self.validate()?;
        let (mut x, mut value, mut g) = start(objective, x0)?;
        let n = x.len();
        let (mut x_new, mut g_new) = (vec![0.0; n], vec![0.0; n]);
        let mut hessian = DMatrix::zeros(n, n);
        let mut unit = vec![0.0; n];
        let mut iterations = Vec::new();
        let (mut evaluations, mut hessian_vector_products) = (1, 0);

        let termination = loop {
            let gradient_norm = norm(&g);
            if let Some(stop) = stop_at(gradient_norm, self.gradient_tolerance, iterations.len(), self.max_iterations) {
                break stop;
            }
            if let Err(e) = dense_hessian(objective, &x, &mut hessian, &mut unit, &mut hessian_vector_products) {
                break recoverable(e)?;
            }
            let (direction, damping) =
                damped_newton_direction(&hessian, &g, self.initial_damping, self.max_damping_attempts);
            let mut record = NewtonIteration {
                iteration: iterations.len(),
                value,
                gradient_norm,
                damping,
                step_length: 0.0,
                evaluations: 0,
            };
            match self.line_search.search(objective, &x, value, &g, &direction, 1.0, &mut x_new, &mut g_new) {
                Ok(accepted) => {
                    record.step_length = accepted.step;
                    record.evaluations = accepted.evaluations;
                    evaluations += accepted.evaluations;
                    iterations.push(record);
                    value = accepted.value;
                    std::mem::swap(&mut x, &mut x_new);
                    std::mem::swap(&mut g, &mut g_new);
                }
                Err(LineSearchError::NoSufficientDecrease { evaluations: tried, .. }) => {
                    record.evaluations = tried;
                    evaluations += tried;
                    iterations.push(record);
                    break Termination::LineSearchFailed;
                }
                // The direction is a descent direction by construction; rounding could still make the
                // slope vanish at the scale of the gradient tolerance.
                Err(LineSearchError::NotDescent { .. }) => {
                    iterations.push(record);
                    break Termination::LineSearchFailed;
                }
                Err(LineSearchError::Objective(e)) => return Err(e.into()),
                Err(LineSearchError::InvalidSettings(e)) => return Err(e),
            }
        };
        Ok(Report::finish(x, value, g, termination, iterations, evaluations, hessian_vector_products))
    }
}

/// `∇²f(x)` from the products `H eᵢ`, one column each, symmetrised.
fn dense_hessian<O: SecondOrderObjective + ?Sized>(
    objective: &O,
    x: &[f64],
    hessian: &mut DMatrix<f64>,
    unit: &mut [f64],
    count: &mut usize,
) -> Result<(), crate::objective::ObjectiveError> {
    let n = x.len();
    for (j, column) in hessian.as_mut_slice().chunks_exact_mut(n.max(1)).enumerate() {
        unit[j] = 1.0;
        *count += 1;
        let result = objective.hessian_vector_product(x, unit, column);
        unit[j] = 0.0;
        result?;
        // The contract says finite; a hand-written implementation may not keep it.
        if let Some(e) = first_non_finite("hessian-vector product", column) {
            return Err(e);
        }
    }
    for j in 0..n {
        for i in 0..j {
            let mean = 0.5 * (hessian[(i, j)] + hessian[(j, i)]);
            hessian[(i, j)] = mean;
            hessian[(j, i)] = mean;
        }
    }
    Ok(())
}

/// `p = −(H + λI)⁻¹ g` with the damping rule documented on [`Newton`], and the `λ` used.
fn damped_newton_direction(
    hessian: &DMatrix<f64>,
    g: &[f64],
    initial_damping: f64,
    max_attempts: usize,
) -> (Vec<f64>, f64) {
    let n = g.len();
    let frobenius = hessian.norm();
    let beta = if frobenius > 0.0 { initial_damping * frobenius } else { initial_damping };
    let min_diagonal = hessian.diagonal().iter().copied().fold(f64::INFINITY, f64::min);
    let mut shift = if min_diagonal > 0.0 { 0.0 } else { beta - min_diagonal };
    let rhs = DVector::from_iterator(n, g.iter().map(|c| -c));
    for _ in 0..max_attempts {
        if !shift.is_finite() {
            break;
        }
        let mut shifted = hessian.clone();
        for i in 0..n {
            shifted[(i, i)] += shift;
        }
        let scale = shifted.norm();
        if let Some(cholesky) = Cholesky::new(shifted) {
            let l = cholesky.l_dirty();
            let min_pivot = (0..n).map(|i| l[(i, i)]).fold(f64::INFINITY, f64::min);
            if min_pivot * min_pivot > f64::EPSILON * scale {
                let p = cholesky.solve(&rhs);
                if p.iter().all(|c| c.is_finite()) && dot(g, p.as_slice()) < 0.0 {
                    return (p.as_slice().to_vec(), shift);
                }
            }
        }
        shift = (2.0 * shift).max(beta);
    }
    (rhs.as_slice().to_vec(), f64::INFINITY)
}
