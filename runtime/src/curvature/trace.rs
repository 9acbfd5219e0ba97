//! Hutchinson's stochastic trace estimator.

use super::{apply_checked, check_at_least, dot, nonempty_dim};
use super::{CurvatureError, LinearOperator, Rng};

/// Settings of [`hutchinson_trace`].
///
/// ```
/// use adjoint::curvature::HutchinsonSettings;
///
/// let settings = HutchinsonSettings { probes: 500, ..Default::default() };
/// assert_eq!(settings.seed, 0);
/// assert_eq!(HutchinsonSettings::default().with_probes(20)?.with_seed(1).probes, 20);
/// assert!(HutchinsonSettings::default().with_probes(1).is_err());
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct HutchinsonSettings {
    /// The number of random probes, one operator application each (default 100; at least 2, for a
    /// standard error).
    pub probes: usize,
    /// Seed of the probes (default 0).
    pub seed: u64,
}

impl Default for HutchinsonSettings {
    fn default() -> Self {
        HutchinsonSettings { probes: 100, seed: 0 }
    }
}

impl HutchinsonSettings {
    /// Sets [`probes`](Self::probes), which must be at least 2.
    ///
    /// ```
    /// use adjoint::curvature::HutchinsonSettings;
    ///
    /// let err = HutchinsonSettings::default().with_probes(0).unwrap_err();
    /// assert_eq!(err.to_string(), "invalid setting `probes`: expected at least 2, found 0");
    /// ```
    pub fn with_probes(mut self, probes: usize) -> Result<Self, CurvatureError> {
        check_at_least("probes", probes, 2)?;
        self.probes = probes;
        Ok(self)
    }

    /// Sets [`seed`](Self::seed).
    ///
    /// ```
    /// use adjoint::curvature::HutchinsonSettings;
    ///
    /// assert_eq!(HutchinsonSettings::default().with_seed(8).seed, 8);
    /// ```
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks every field, as [`hutchinson_trace`] does before starting.
    ///
    /// ```
    /// use adjoint::curvature::HutchinsonSettings;
    ///
    /// assert!(HutchinsonSettings { probes: 1, ..Default::default() }.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), CurvatureError> {
        check_at_least("probes", self.probes, 2)
    }
}

/// A stochastic estimate of a trace, from [`hutchinson_trace`].
///
/// ```
/// use adjoint::curvature::{hutchinson_trace, HutchinsonSettings};
/// use nalgebra::DMatrix;
///
/// let t = hutchinson_trace(&DMatrix::from_row_slice(2, 2, &[1.0, 0.5, 0.5, 3.0]), &HutchinsonSettings::default())?;
/// assert!((t.estimate - 4.0).abs() <= 4.0 * t.standard_error + 1e-12);
/// assert_eq!(t.probes, 100);
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TraceEstimate {
    /// The mean of `zᵀAz` over the probes `z`.
    pub estimate: f64,
    /// The standard error of the mean: the sample standard deviation of `zᵀAz` over `√probes`.
    pub standard_error: f64,
    /// The number of probes (operator applications).
    pub probes: usize,
}

/// Hutchinson's estimate of `tr A`: the mean of `zᵀAz` over random vectors `z` with independent
/// Rademacher (`±1`) components (Hutchinson 1990).
///
/// `E[zᵀAz] = tr A` for any square `A`, and among distributions with independent components the
/// Rademacher one has the least variance, `2(‖A‖²_F − Σᵢ Aᵢᵢ²)` per probe: it is exact for a diagonal
/// operator. The error falls as `1/√probes`, so the estimate is cheap to a percent and expensive to
/// many digits. For a Hessian, `tr H / n` is the mean curvature, a scalar summary of sharpness.
///
/// ```
/// use adjoint::curvature::{hutchinson_trace, FnOperator, HutchinsonSettings};
///
/// // A 100 × 100 operator: the tridiagonal (1, 4, 1) matrix, trace 400.
/// let n = 100;
/// let op = FnOperator::new(n, |v: &[f64], out: &mut [f64]| {
///     for i in 0..n {
///         out[i] = 4.0 * v[i];
///         if i > 0 { out[i] += v[i - 1]; }
///         if i + 1 < n { out[i] += v[i + 1]; }
///     }
/// });
/// let t = hutchinson_trace(&op, &HutchinsonSettings { probes: 200, seed: 1 })?;
/// assert!((t.estimate - 400.0).abs() < 4.0 * t.standard_error, "{t:?}");
/// assert!(t.standard_error < 2.0);
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
pub fn hutchinson_trace<A: LinearOperator + ?Sized>(
    op: &A,
    settings: &HutchinsonSettings,
) -> Result<TraceEstimate, CurvatureError> {
    settings.validate()?;
    let n = nonempty_dim(op)?;
    let mut rng = Rng::new(settings.seed);
    let (mut z, mut az) = (vec![0.0; n], vec![0.0; n]);
    // Welford's running mean and sum of squared deviations.
    let (mut mean, mut m2) = (0.0, 0.0);
    for count in 1..=settings.probes {
        z.iter_mut().for_each(|c| *c = rng.rademacher());
        apply_checked(op, &z, &mut az)?;
        let sample = dot(&z, &az);
        if !sample.is_finite() {
            // Finite products can still overflow in the sum.
            return Err(CurvatureError::NonFinite { what: "probe value zᵀAz", index: count - 1, value: sample });
        }
        let delta = sample - mean;
        mean += delta / count as f64;
        m2 += delta * (sample - mean);
    }
    let p = settings.probes as f64;
    let variance = (m2 / (p - 1.0)).max(0.0);
    Ok(TraceEstimate { estimate: mean, standard_error: (variance / p).sqrt(), probes: settings.probes })
}
