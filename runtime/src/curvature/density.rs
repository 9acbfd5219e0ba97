//! Stochastic Lanczos quadrature: the spectral density of a symmetric operator.

use super::lanczos::Krylov;
use super::tridiagonal::Ritz;
use super::{check_at_least, invalid, nonempty_dim, CurvatureError, LinearOperator, Rng};

/// Settings of [`spectral_density`].
///
/// ```
/// use adjoint::curvature::SlqSettings;
///
/// let settings = SlqSettings { probes: 20, ..Default::default() };
/// assert_eq!(settings.lanczos_steps, 80);
/// let s = SlqSettings::default().with_probes(5)?.with_lanczos_steps(30)?.with_seed(2);
/// assert_eq!((s.probes, s.lanczos_steps, s.seed), (5, 30, 2));
/// assert!(SlqSettings::default().with_lanczos_steps(0).is_err());
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SlqSettings {
    /// The number of random probes (default 10; at least 1). Each costs `lanczos_steps` operator
    /// applications.
    pub probes: usize,
    /// The Lanczos steps per probe, and so the quadrature nodes per probe (default 80; capped at the
    /// dimension). `m` steps integrate polynomials of degree `2m − 1` exactly.
    pub lanczos_steps: usize,
    /// Seed of the probes (default 0).
    pub seed: u64,
}

impl Default for SlqSettings {
    fn default() -> Self {
        SlqSettings { probes: 10, lanczos_steps: 80, seed: 0 }
    }
}

impl SlqSettings {
    /// Sets [`probes`](Self::probes), which must be at least 1.
    ///
    /// ```
    /// use adjoint::curvature::SlqSettings;
    ///
    /// assert_eq!(SlqSettings::default().with_probes(3)?.probes, 3);
    /// assert!(SlqSettings::default().with_probes(0).is_err());
    /// # Ok::<(), adjoint::curvature::CurvatureError>(())
    /// ```
    pub fn with_probes(mut self, probes: usize) -> Result<Self, CurvatureError> {
        check_at_least("probes", probes, 1)?;
        self.probes = probes;
        Ok(self)
    }

    /// Sets [`lanczos_steps`](Self::lanczos_steps), which must be at least 1.
    ///
    /// ```
    /// use adjoint::curvature::SlqSettings;
    ///
    /// assert_eq!(SlqSettings::default().with_lanczos_steps(40)?.lanczos_steps, 40);
    /// # Ok::<(), adjoint::curvature::CurvatureError>(())
    /// ```
    pub fn with_lanczos_steps(mut self, lanczos_steps: usize) -> Result<Self, CurvatureError> {
        check_at_least("lanczos_steps", lanczos_steps, 1)?;
        self.lanczos_steps = lanczos_steps;
        Ok(self)
    }

    /// Sets [`seed`](Self::seed).
    ///
    /// ```
    /// use adjoint::curvature::SlqSettings;
    ///
    /// assert_eq!(SlqSettings::default().with_seed(4).seed, 4);
    /// ```
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks every field, as [`spectral_density`] does before starting.
    ///
    /// ```
    /// use adjoint::curvature::SlqSettings;
    ///
    /// assert!(SlqSettings::default().validate().is_ok());
    /// assert!(SlqSettings { probes: 0, ..Default::default() }.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), CurvatureError> {
        check_at_least("probes", self.probes, 1)?;
        check_at_least("lanczos_steps", self.lanczos_steps, 1)
    }
}

/// The spectral density of a symmetric operator as a sum of weighted point masses, from
/// [`spectral_density`]: `φ(t) ≈ Σₖ wₖ δ(t − θₖ)`, an estimate of `(1/n) Σᵢ δ(t − λᵢ)`.
///
/// The weights are positive and sum to 1, so `Σₖ wₖ f(θₖ)` estimates `(1/n) tr f(A)` for a smooth
/// `f` ([`integrate`](Self::integrate)), and [`smoothed`](Self::smoothed) turns the point masses into a
/// curve to plot.
///
/// ```
/// use adjoint::curvature::{spectral_density, SlqSettings};
/// use nalgebra::{DMatrix, DVector};
///
/// // Half the eigenvalues are 1, half are 10: two nodes with weight ½ each.
/// let a = DMatrix::from_diagonal(&DVector::from_fn(40, |i, _| if i < 20 { 1.0 } else { 10.0 }));
/// let density = spectral_density(&a, &SlqSettings::default())?;
/// let near = |t: f64| -> f64 {
///     density.nodes.iter().zip(&density.weights).filter(|(x, _)| (*x - t).abs() < 1e-8).map(|(_, w)| w).sum()
/// };
/// assert!((near(1.0) - 0.5).abs() < 1e-10 && (near(10.0) - 0.5).abs() < 1e-10);
/// assert!((density.mean() - 5.5).abs() < 1e-10);
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SpectralDensity {
    /// The quadrature nodes (Ritz values of all probes), in increasing order.
    pub nodes: Vec<f64>,
    /// The weight of each node; positive, summing to 1.
    pub weights: Vec<f64>,
    /// The dimension `n` of the operator.
    pub dim: usize,
    /// The number of probes.
    pub probes: usize,
    /// The operator applications made.
    pub iterations: usize,
}

impl SpectralDensity {
    /// `Σₖ wₖ f(θₖ)`: an estimate of `(1/n) tr f(A) = (1/n) Σᵢ f(λᵢ)`.
    ///
    /// ```
    /// use adjoint::curvature::{spectral_density, SlqSettings};
    /// use nalgebra::{DMatrix, DVector};
    ///
    /// let a = DMatrix::from_diagonal(&DVector::from_vec(vec![1.0, 2.0, 4.0, 8.0]));
    /// let density = spectral_density(&a, &SlqSettings::default())?;
    /// // Diagonal operators and Rademacher probes make the estimate exact: mean of ln λ.
    /// let mean_log = density.integrate(f64::ln);
    /// assert!((mean_log - 1.5 * 2f64.ln()).abs() < 1e-10);
    /// # Ok::<(), adjoint::curvature::CurvatureError>(())
    /// ```
    pub fn integrate(&self, mut f: impl FnMut(f64) -> f64) -> f64 {
        self.nodes.iter().zip(&self.weights).map(|(&t, &w)| w * f(t)).sum()
    }

    /// `n Σₖ wₖ f(θₖ)`: an estimate of `tr f(A)` (with `f = ln`, of `ln det A`).
    ///
    /// ```
    /// use adjoint::curvature::{spectral_density, SlqSettings};
    /// use nalgebra::{DMatrix, DVector};
    ///
    /// let a = DMatrix::from_diagonal(&DVector::from_vec(vec![1.0, 2.0, 4.0, 8.0]));
    /// let log_det = spectral_density(&a, &SlqSettings::default())?.trace_of(f64::ln);
    /// assert!((log_det - 64f64.ln()).abs() < 1e-10);
    /// # Ok::<(), adjoint::curvature::CurvatureError>(())
    /// ```
    pub fn trace_of(&self, f: impl FnMut(f64) -> f64) -> f64 {
        self.dim as f64 * self.integrate(f)
    }

    /// `Σₖ wₖ θₖ`: the mean eigenvalue, an estimate of `tr A / n` (the Hutchinson estimate with the same
    /// probes, divided by `n`).
    ///
    /// ```
    /// use adjoint::curvature::{spectral_density, SlqSettings};
    /// use nalgebra::DMatrix;
    ///
    /// let density = spectral_density(&DMatrix::from_row_slice(2, 2, &[2.0, 0.0, 0.0, 4.0]), &SlqSettings::default())?;
    /// assert!((density.mean() - 3.0).abs() < 1e-12);
    /// # Ok::<(), adjoint::curvature::CurvatureError>(())
    /// ```
    pub fn mean(&self) -> f64 {
        self.integrate(|t| t)
    }

    /// The smallest and largest node: the range of the spectrum seen (close to `λ_min` and `λ_max`
    /// when the Lanczos steps were enough for the extremes to converge).
    ///
    /// ```
    /// use adjoint::curvature::{spectral_density, SlqSettings};
    /// use nalgebra::DMatrix;
    ///
    /// let density = spectral_density(&DMatrix::from_row_slice(2, 2, &[-1.0, 0.0, 0.0, 3.0]), &SlqSettings::default())?;
    /// let (lo, hi) = density.range();
    /// assert!((lo + 1.0).abs() < 1e-12 && (hi - 3.0).abs() < 1e-12);
    /// # Ok::<(), adjoint::curvature::CurvatureError>(())
    /// ```
    pub fn range(&self) -> (f64, f64) {
        match (self.nodes.first(), self.nodes.last()) {
            (Some(&lo), Some(&hi)) => (lo, hi),
            _ => (0.0, 0.0),
        }
    }

    /// The density smoothed by a Gaussian kernel of width `sigma`, at the points of `grid`:
    /// `Σₖ wₖ exp(−(t − θₖ)²/2σ²) / (σ√2π)`, which integrates to 1 over the real line.
    ///
    /// The width sets the resolution: about 1% of the spectral range shows the bulk and the outliers of
    /// a Hessian spectrum (Ghorbani, Krishnan & Xiao 2019 use `σ² = 10⁻⁵` on a spectrum rescaled to
    /// `[−1, 1]`). Errors if `sigma` is not finite and positive, or a grid point is not finite.
    ///
    /// ```
    /// use adjoint::curvature::{spectral_density, SlqSettings};
    /// use nalgebra::DMatrix;
    ///
    /// let density = spectral_density(&DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.0, 1.0]), &SlqSettings::default())?;
    /// let values = density.smoothed(&[1.0, 2.0], 0.5)?;
    /// let peak = 1.0 / (0.5 * (2.0 * std::f64::consts::PI).sqrt());
    /// assert!((values[0] - peak).abs() < 1e-12);
    /// assert!((values[1] - peak * (-2.0_f64).exp()).abs() < 1e-12);
    /// assert!(density.smoothed(&[0.0], 0.0).is_err());
    /// # Ok::<(), adjoint::curvature::CurvatureError>(())
    /// ```
    pub fn smoothed(&self, grid: &[f64], sigma: f64) -> Result<Vec<f64>, CurvatureError> {
        check_sigma(sigma)?;
        if let Some(i) = grid.iter().position(|t| !t.is_finite()) {
            return Err(invalid("grid", "finite points", format!("{} at index {i}", grid[i])));
        }
        let norm = 1.0 / (sigma * (2.0 * core::f64::consts::PI).sqrt());
        let inv_two_var = 1.0 / (2.0 * sigma * sigma);
        Ok(grid
            .iter()
            .map(|&t| {
                let s: f64 = self
                    .nodes
                    .iter()
                    .zip(&self.weights)
                    .map(|(&x, &w)| w * (-(t - x).powi(2) * inv_two_var).exp())
                    .sum();
                norm * s
            })
            .collect())
    }

    /// [`smoothed`](Self::smoothed) on `points` evenly spaced points from `5σ` below the smallest node to
    /// `5σ` above the largest; returns the grid and the density. Choose `points` so that the spacing is
    /// below `σ` for the curve (and its integral) to be resolved. Errors if `points < 2` or `sigma` is
    /// not finite and positive.
    ///
    /// ```
    /// use adjoint::curvature::{spectral_density, SlqSettings};
    /// use nalgebra::{DMatrix, DVector};
    ///
    /// let a = DMatrix::from_diagonal(&DVector::from_fn(30, |i, _| i as f64));
    /// let density = spectral_density(&a, &SlqSettings::default())?;
    /// let (grid, values) = density.smoothed_on_grid(2000, 0.5)?;
    /// let dt = grid[1] - grid[0];
    /// let integral: f64 = values.iter().sum::<f64>() * dt;
    /// assert!((integral - 1.0).abs() < 1e-6, "{integral}");
    /// # Ok::<(), adjoint::curvature::CurvatureError>(())
    /// ```
    pub fn smoothed_on_grid(&self, points: usize, sigma: f64) -> Result<(Vec<f64>, Vec<f64>), CurvatureError> {
        check_at_least("points", points, 2)?;
        check_sigma(sigma)?;
        let (lo, hi) = self.range();
        let (start, end) = (lo - 5.0 * sigma, hi + 5.0 * sigma);
        let step = (end - start) / (points - 1) as f64;
        let grid: Vec<f64> = (0..points).map(|i| start + step * i as f64).collect();
        let values = self.smoothed(&grid, sigma)?;
        Ok((grid, values))
    }
}

fn check_sigma(sigma: f64) -> Result<(), CurvatureError> {
    if sigma.is_finite() && sigma > 0.0 {
        Ok(())
    } else {
        Err(invalid("sigma", "a finite positive kernel width", sigma))
    }
}

/// The spectral density of a symmetric operator by stochastic Lanczos quadrature (Ubaru, Chen & Saad
/// 2017; for neural-network Hessians, Ghorbani, Krishnan & Xiao 2019).
///
/// For each probe, a Rademacher vector `z` normalised to `q = z/√n`, `m` Lanczos steps from `q` (with
/// full reorthogonalisation) give a tridiagonal `T = S Θ Sᵀ`, and `qᵀf(A)q ≈ Σₖ S₀ₖ² f(θₖ)` is the
/// `m`-point Gauss quadrature of the measure `Σᵢ (qᵀuᵢ)² δ(t − λᵢ)`. Since `E[(qᵀuᵢ)²] = 1/n`, the nodes
/// `θₖ` of all probes with weights `S₀ₖ² / probes` are an unbiased estimate of the spectral density
/// `(1/n) Σᵢ δ(t − λᵢ)` as a functional. A probe whose Krylov space becomes invariant stops early (its
/// quadrature is then exact).
///
/// The result shows where the eigenvalues of a Hessian are (a bulk near zero, a few large outliers,
/// negative ones at a saddle) at a cost of `probes × lanczos_steps` Hessian-vector products, with the
/// extremes resolved best and individual interior eigenvalues not at all.
///
/// ```
/// use adjoint::curvature::{spectral_density, SlqSettings};
/// use nalgebra::{DMatrix, DVector};
///
/// let a = DMatrix::from_diagonal(&DVector::from_fn(200, |i, _| (i as f64 / 199.0).powi(2)));
/// let density = spectral_density(&a, &SlqSettings { probes: 4, lanczos_steps: 40, seed: 0 })?;
/// assert!((density.weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
/// let exact_mean = (0..200).map(|i| (i as f64 / 199.0).powi(2)).sum::<f64>() / 200.0;
/// assert!((density.mean() - exact_mean).abs() < 1e-12); // exact for diagonal operators
/// assert_eq!(density.iterations, 4 * 40);
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
pub fn spectral_density<A: LinearOperator + ?Sized>(
    op: &A,
    settings: &SlqSettings,
) -> Result<SpectralDensity, CurvatureError> {
    settings.validate()?;
    let n = nonempty_dim(op)?;
    let steps = settings.lanczos_steps.min(n);
    let mut rng = Rng::new(settings.seed);
    let mut points: Vec<(f64, f64)> = Vec::with_capacity(settings.probes * steps);
    let mut iterations = 0;
    let scale = 1.0 / (n as f64).sqrt();
    for _ in 0..settings.probes {
        let start = (0..n).map(|_| rng.rademacher() * scale).collect();
        let mut krylov = Krylov::new(op, start);
        let beta = loop {
            let beta = krylov.step()?;
            iterations += 1;
            if krylov.len() == steps || krylov.is_invariant(beta) {
                break beta;
            }
            krylov.push_next(beta);
        };
        let ritz = Ritz::new(&krylov.alpha, &krylov.beta, beta, false)?;
        let share = 1.0 / settings.probes as f64;
        for (k, &theta) in ritz.values.iter().enumerate() {
            points.push((theta, share * ritz.vectors[(0, k)].powi(2)));
        }
    }
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (nodes, weights) = points.into_iter().unzip();
    Ok(SpectralDensity { nodes, weights, dim: n, probes: settings.probes, iterations })
}
