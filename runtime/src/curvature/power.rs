//! Power iteration for the eigenvalue of largest magnitude.

use super::{apply_checked, axpy, check_at_least, check_tolerance, dot, nonempty_dim, norm, random_unit};
use super::{CurvatureError, LinearOperator, Rng};

/// Settings of [`power_iteration`].
///
/// ```
/// use adjoint::curvature::PowerSettings;
///
/// let settings = PowerSettings { seed: 42, ..Default::default() };
/// assert_eq!(settings.max_iterations, 10_000);
/// let strict = PowerSettings::default().with_tolerance(1e-12)?.with_max_iterations(50_000)?;
/// assert_eq!(strict.tolerance, 1e-12);
/// assert!(PowerSettings::default().with_tolerance(0.0).is_err());
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PowerSettings {
    /// The most operator applications to make before giving up (default 10 000).
    pub max_iterations: usize,
    /// Stop when the residual `‖Av − θv‖` is at most `tolerance · |θ|` (default `1e-8`). The estimate
    /// `θ` is then within `tolerance · |θ|` of an eigenvalue, and usually much closer (the error of a
    /// Rayleigh quotient is quadratic in the residual). In `[ε, 1)`.
    pub tolerance: f64,
    /// Seed of the random start vector (default 0).
    pub seed: u64,
}

impl Default for PowerSettings {
    fn default() -> Self {
        PowerSettings { max_iterations: 10_000, tolerance: 1e-8, seed: 0 }
    }
}

impl PowerSettings {
    /// Sets [`max_iterations`](Self::max_iterations), which must be at least 1.
    ///
    /// ```
    /// use adjoint::curvature::PowerSettings;
    ///
    /// assert_eq!(PowerSettings::default().with_max_iterations(5)?.max_iterations, 5);
    /// let err = PowerSettings::default().with_max_iterations(0).unwrap_err();
    /// assert_eq!(err.to_string(), "invalid setting `max_iterations`: expected at least 1, found 0");
    /// # Ok::<(), adjoint::curvature::CurvatureError>(())
    /// ```
    pub fn with_max_iterations(mut self, max_iterations: usize) -> Result<Self, CurvatureError> {
        check_at_least("max_iterations", max_iterations, 1)?;
        self.max_iterations = max_iterations;
        Ok(self)
    }

    /// Sets [`tolerance`](Self::tolerance), which must be in `[ε, 1)`.
    ///
    /// ```
    /// use adjoint::curvature::PowerSettings;
    ///
    /// assert_eq!(PowerSettings::default().with_tolerance(1e-6)?.tolerance, 1e-6);
    /// assert!(PowerSettings::default().with_tolerance(f64::NAN).is_err());
    /// assert!(PowerSettings::default().with_tolerance(1.5).is_err());
    /// # Ok::<(), adjoint::curvature::CurvatureError>(())
    /// ```
    pub fn with_tolerance(mut self, tolerance: f64) -> Result<Self, CurvatureError> {
        check_tolerance(tolerance)?;
        self.tolerance = tolerance;
        Ok(self)
    }

    /// Sets [`seed`](Self::seed) (every seed is valid).
    ///
    /// ```
    /// use adjoint::curvature::PowerSettings;
    ///
    /// assert_eq!(PowerSettings::default().with_seed(3).seed, 3);
    /// ```
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks every field, as [`power_iteration`] does before starting.
    ///
    /// ```
    /// use adjoint::curvature::PowerSettings;
    ///
    /// assert!(PowerSettings::default().validate().is_ok());
    /// assert!(PowerSettings { tolerance: -1.0, ..Default::default() }.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), CurvatureError> {
        check_at_least("max_iterations", self.max_iterations, 1)?;
        check_tolerance(self.tolerance)
    }
}

/// The result of [`power_iteration`].
///
/// ```
/// use adjoint::curvature::{power_iteration, PowerSettings};
/// use nalgebra::DMatrix;
///
/// let r = power_iteration(&DMatrix::from_row_slice(2, 2, &[3.0, 1.0, 1.0, 3.0]), &PowerSettings::default())?;
/// assert!((r.eigenvalue - 4.0).abs() < 1e-12);
/// assert!((r.eigenvector[0].abs() - 0.5_f64.sqrt()).abs() < 1e-6);
/// assert!(r.residual <= 1e-8 * 4.0 && r.iterations > 0);
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PowerResult {
    /// The eigenvalue of largest magnitude, with its sign.
    pub eigenvalue: f64,
    /// A unit eigenvector (its sign is arbitrary).
    pub eigenvector: Vec<f64>,
    /// The residual norm `‖Av − θv‖` reached (absolute).
    pub residual: f64,
    /// The operator applications made.
    pub iterations: usize,
}

/// The eigenvalue of largest magnitude of a symmetric operator, and its eigenvector, by power
/// iteration (Golub & Van Loan §8.2.1).
///
/// From a random unit vector `v`, repeats `w = Av`, `θ = vᵀw` (the Rayleigh quotient), `v = w/‖w‖`,
/// until the residual `‖w − θv‖` is at most `tolerance · |θ|`. The error shrinks by
/// `|λ₂/λ₁|` per step, so it is fast when the largest eigenvalue stands apart and slow when it does not;
/// when `λ_max = −λ_min` it does not converge at all. [`lanczos`](super::lanczos) needs far fewer
/// applications for the same accuracy and also gives the other end of the spectrum; power iteration
/// stores only two vectors.
///
/// The largest curvature `λ_max` of a loss bounds the stable step of gradient descent: `η < 2/λ_max`.
///
/// ```
/// use adjoint::curvature::{power_iteration, CurvatureError, FnOperator, PowerSettings};
///
/// // diag(1, −5, 2): the largest magnitude is −5.
/// let d = [1.0, -5.0, 2.0];
/// let op = FnOperator::new(3, |v: &[f64], out: &mut [f64]| {
///     for i in 0..3 {
///         out[i] = d[i] * v[i];
///     }
/// });
/// let r = power_iteration(&op, &PowerSettings::default())?;
/// assert!((r.eigenvalue + 5.0).abs() < 1e-12);
///
/// // Too few iterations: an error with the residual reached.
/// let err = power_iteration(&op, &PowerSettings { max_iterations: 3, ..Default::default() }).unwrap_err();
/// assert!(matches!(err, CurvatureError::NotConverged { iterations: 3, .. }), "{err}");
/// # Ok::<(), CurvatureError>(())
/// ```
pub fn power_iteration<A: LinearOperator + ?Sized>(
    op: &A,
    settings: &PowerSettings,
) -> Result<PowerResult, CurvatureError> {
    settings.validate()?;
    let n = nonempty_dim(op)?;
    let mut rng = Rng::new(settings.seed);
    let mut v = random_unit(n, &mut rng);
    let mut w = vec![0.0; n];
    let mut r = vec![0.0; n];
    let mut relative = f64::INFINITY;
    for iteration in 1..=settings.max_iterations {
        apply_checked(op, &v, &mut w)?;
        let theta = dot(&v, &w);
        r.copy_from_slice(&w);
        axpy(-theta, &v, &mut r);
        let residual = norm(&r);
        if !theta.is_finite() || !residual.is_finite() {
            // Finite products can still overflow in these sums.
            let value = if theta.is_finite() { residual } else { theta };
            return Err(CurvatureError::NonFinite { what: "Rayleigh quotient", index: iteration - 1, value });
        }
        if residual <= settings.tolerance * theta.abs() {
            return Ok(PowerResult { eigenvalue: theta, eigenvector: v, residual, iterations: iteration });
        }
        relative = residual / theta.abs();
        let w_norm = norm(&w);
        // w = 0 with v ≠ 0 makes θ = 0 and the residual 0, which returned above.
        v.iter_mut().zip(&w).for_each(|(vi, wi)| *vi = wi / w_norm);
    }
    Err(CurvatureError::NotConverged {
        algorithm: "power iteration",
        iterations: settings.max_iterations,
        residual: relative,
        tolerance: settings.tolerance,
    })
}
