//! The Lanczos iteration with full reorthogonalisation: extreme eigenvalues, top-k, condition numbers.

use nalgebra::DMatrix;

use super::tridiagonal::Ritz;
use super::{apply_checked, axpy, check_at_least, check_tolerance, dot, invalid, nonempty_dim, norm, random_unit};
use super::{CurvatureError, LinearOperator, Rng};

/// Settings of [`lanczos`], [`extreme_eigenvalues`] and [`condition_number`].
///
/// ```
/// use adjoint::curvature::LanczosSettings;
///
/// let settings = LanczosSettings { ritz_vectors: true, ..Default::default() };
/// assert_eq!(settings.max_iterations, 300);
/// let custom = LanczosSettings::default().with_max_iterations(50)?.with_tolerance(1e-6)?.with_seed(9);
/// assert_eq!((custom.max_iterations, custom.tolerance, custom.seed), (50, 1e-6, 9));
/// assert!(LanczosSettings::default().with_max_iterations(0).is_err());
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LanczosSettings {
    /// The largest Krylov basis to build, one operator application per vector (default 300). Capped at
    /// the dimension `n`, where the iteration is exact. The basis is stored, `n × max_iterations`
    /// numbers at most: for `n = 10⁷` parameters, 300 vectors are 24 GB, so lower it for large models.
    /// An extreme eigenvalue at the edge of a dense cluster (`λ_min` of an ill-conditioned Hessian, say)
    /// converges slowly; when the result is [`CurvatureError::NotConverged`], raise this or loosen
    /// [`tolerance`](Self::tolerance).
    pub max_iterations: usize,
    /// Stop when every wanted Ritz pair `(θ, y)` has residual `‖Ay − θy‖ ≤ tolerance · ‖T‖`, where
    /// `‖T‖` is the largest Ritz value in magnitude (an estimate of `‖A‖`) (default `1e-8`). Each
    /// wanted eigenvalue is then within `tolerance · ‖A‖` of its estimate, and usually within
    /// `(tolerance · ‖A‖)² / gap`. In `[ε, 1)`.
    pub tolerance: f64,
    /// Seed of the random start vector (default 0).
    pub seed: u64,
    /// Whether to compute the Ritz vectors (approximate eigenvectors) of the eigenvalues returned by
    /// [`lanczos`] (default `false`).
    pub ritz_vectors: bool,
}

impl Default for LanczosSettings {
    fn default() -> Self {
        LanczosSettings { max_iterations: 300, tolerance: 1e-8, seed: 0, ritz_vectors: false }
    }
}

impl LanczosSettings {
    /// Sets [`max_iterations`](Self::max_iterations), which must be at least 1.
    ///
    /// ```
    /// use adjoint::curvature::LanczosSettings;
    ///
    /// assert_eq!(LanczosSettings::default().with_max_iterations(20)?.max_iterations, 20);
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
    /// use adjoint::curvature::LanczosSettings;
    ///
    /// assert_eq!(LanczosSettings::default().with_tolerance(1e-12)?.tolerance, 1e-12);
    /// let err = LanczosSettings::default().with_tolerance(0.0).unwrap_err();
    /// assert_eq!(err.to_string(), "invalid setting `tolerance`: expected a relative tolerance in [2.2e-16, 1), found 0");
    /// # Ok::<(), adjoint::curvature::CurvatureError>(())
    /// ```
    pub fn with_tolerance(mut self, tolerance: f64) -> Result<Self, CurvatureError> {
        check_tolerance(tolerance)?;
        self.tolerance = tolerance;
        Ok(self)
    }

    /// Sets [`seed`](Self::seed).
    ///
    /// ```
    /// use adjoint::curvature::LanczosSettings;
    ///
    /// assert_eq!(LanczosSettings::default().with_seed(5).seed, 5);
    /// ```
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets [`ritz_vectors`](Self::ritz_vectors).
    ///
    /// ```
    /// use adjoint::curvature::LanczosSettings;
    ///
    /// assert!(LanczosSettings::default().with_ritz_vectors(true).ritz_vectors);
    /// ```
    pub fn with_ritz_vectors(mut self, ritz_vectors: bool) -> Self {
        self.ritz_vectors = ritz_vectors;
        self
    }

    /// Checks every field, as the algorithms do before starting.
    ///
    /// ```
    /// use adjoint::curvature::LanczosSettings;
    ///
    /// assert!(LanczosSettings::default().validate().is_ok());
    /// assert!(LanczosSettings { max_iterations: 0, ..Default::default() }.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), CurvatureError> {
        check_at_least("max_iterations", self.max_iterations, 1)?;
        check_tolerance(self.tolerance)
    }
}

/// Which end of the spectrum [`lanczos`] computes.
///
/// ```
/// use adjoint::curvature::{lanczos, LanczosSettings, Which};
/// use nalgebra::{DMatrix, DVector};
///
/// let a = DMatrix::from_diagonal(&DVector::from_vec(vec![-7.0, 1.0, 2.0, 5.0]));
/// let s = LanczosSettings::default();
/// assert!((lanczos(&a, Which::Largest, 1, &s)?.values[0] - 5.0).abs() < 1e-12);
/// assert!((lanczos(&a, Which::Smallest, 1, &s)?.values[0] + 7.0).abs() < 1e-12);
/// assert!((lanczos(&a, Which::LargestMagnitude, 1, &s)?.values[0] + 7.0).abs() < 1e-12);
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Which {
    /// The algebraically largest eigenvalues, in decreasing order.
    Largest,
    /// The algebraically smallest eigenvalues, in increasing order.
    Smallest,
    /// The eigenvalues largest in magnitude, in decreasing order of magnitude.
    LargestMagnitude,
}

/// Eigenvalues and (optionally) eigenvectors computed by [`lanczos`].
///
/// ```
/// use adjoint::curvature::{lanczos, LanczosSettings, Which};
/// use nalgebra::DMatrix;
///
/// let a = DMatrix::from_row_slice(2, 2, &[2.0, 1.0, 1.0, 2.0]);
/// let pairs = lanczos(&a, Which::Largest, 1, &LanczosSettings::default().with_ritz_vectors(true))?;
/// assert!((pairs.values[0] - 3.0).abs() < 1e-12);
/// let v = pairs.vectors.unwrap();
/// assert!((v[(0, 0)].abs() - 0.5_f64.sqrt()).abs() < 1e-12 && (v[(0, 0)] - v[(1, 0)]).abs() < 1e-12);
/// assert!(pairs.residuals[0] < 1e-12 && pairs.iterations <= 2);
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Eigenpairs {
    /// The eigenvalues, in the order of the [`Which`] asked for.
    pub values: Vec<f64>,
    /// With [`LanczosSettings::ritz_vectors`], the unit eigenvectors as the columns of an `n × k`
    /// matrix, column `i` for `values[i]`.
    pub vectors: Option<DMatrix<f64>>,
    /// The residual norms `‖Ay − θy‖` of the Ritz pairs (absolute; each eigenvalue is within its
    /// residual of an eigenvalue of the operator).
    pub residuals: Vec<f64>,
    /// The operator applications made.
    pub iterations: usize,
}

/// The smallest and largest eigenvalues of a symmetric operator, from [`extreme_eigenvalues`].
///
/// ```
/// use adjoint::curvature::{extreme_eigenvalues, LanczosSettings};
/// use nalgebra::{DMatrix, DVector};
///
/// let a = DMatrix::from_diagonal(&DVector::from_vec(vec![0.5, 2.0, 50.0]));
/// let e = extreme_eigenvalues(&a, &LanczosSettings::default())?;
/// assert!((e.min - 0.5).abs() < 1e-12 && (e.max - 50.0).abs() < 1e-12);
/// assert!((e.condition_number()? - 100.0).abs() < 1e-9);
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ExtremeEigenvalues {
    /// `λ_min`.
    pub min: f64,
    /// `λ_max`.
    pub max: f64,
    /// A bound on the error of `min`: the residual norm of its Ritz vector, and at least the rounding
    /// error of the iteration (`≈ 4√n ε ‖A‖`).
    pub min_residual: f64,
    /// A bound on the error of `max`, likewise.
    pub max_residual: f64,
    /// The operator applications made.
    pub iterations: usize,
}

impl ExtremeEigenvalues {
    /// `κ = λ_max / λ_min`, or [`CurvatureError::NotPositiveDefinite`] when `λ_min` is not positive
    /// beyond its error bound (the operator is indefinite, negative semi-definite, or singular to the
    /// accuracy reached).
    ///
    /// ```
    /// use adjoint::curvature::{CurvatureError, ExtremeEigenvalues};
    ///
    /// let e = ExtremeEigenvalues { min: 2.0, max: 8.0, min_residual: 1e-12, max_residual: 1e-12, iterations: 4 };
    /// assert_eq!(e.condition_number()?, 4.0);
    ///
    /// let saddle = ExtremeEigenvalues { min: -1.0, ..e };
    /// let err = saddle.condition_number().unwrap_err();
    /// assert!(matches!(err, CurvatureError::NotPositiveDefinite { lambda_min, .. } if lambda_min == -1.0));
    /// assert!(err.to_string().contains("indefinite: found λ_min = -1 (± 1.0e-12) and λ_max = 8"), "{err}");
    /// # Ok::<(), CurvatureError>(())
    /// ```
    pub fn condition_number(&self) -> Result<f64, CurvatureError> {
        if self.min > self.min_residual {
            Ok(self.max / self.min)
        } else {
            Err(CurvatureError::NotPositiveDefinite {
                lambda_min: self.min,
                lambda_max: self.max,
                uncertainty: self.min_residual,
            })
        }
    }
}

/// The `k` eigenvalues at one end of the spectrum of a symmetric operator, and optionally their
/// eigenvectors, by the Lanczos iteration with full reorthogonalisation.
///
/// From a random unit vector `q₁`, the iteration builds an orthonormal basis `Q = [q₁ … q_m]` of the
/// Krylov space `span{q₁, Aq₁, …, A^{m−1}q₁}` in which `QᵀAQ = T` is tridiagonal (Lanczos 1950). The
/// eigenvalues of `T` (Ritz values, computed with nalgebra's `SymmetricEigen`) approximate the extreme
/// eigenvalues of `A` after far fewer steps than `n`: the error decays like a Chebyshev polynomial in
/// the gap (Saad 2011, §6.6; Golub & Van Loan §10.1). In floating point the basis loses orthogonality
/// as Ritz values converge, which makes spurious copies of eigenvalues appear (Paige 1971, 1980); here
/// every new vector is orthogonalised against the whole basis (with a second pass when the first
/// cancelled much, Daniel–Gragg–Kaufman–Stewart), so `Q` is orthonormal to working precision, at
/// `O(nm)` memory and `O(nm²)` arithmetic besides the `m` operator applications. When the Krylov space
/// is invariant before `k` Ritz values exist, the iteration continues from a new random vector
/// orthogonal to it. The residual `‖Ay − θy‖` of a Ritz pair is known without applying `A` (it is
/// `β_m |e_mᵀ s|`), and the convergence test uses it, checking after every step at first and every
/// eighth of the basis size later.
///
/// A single start vector sees an eigenvalue of multiplicity > 1 once while the Krylov space is not
/// exhausted, so the `k` values returned are distinct eigenvalues; an exactly repeated eigenvalue can
/// be missing from a top-k list.
///
/// Errors: [`InvalidSettings`](CurvatureError::InvalidSettings) for `k` outside `1..=n` or
/// `max_iterations < k`, [`NotConverged`](CurvatureError::NotConverged) with the worst relative residual
/// when `max_iterations` steps did not suffice, [`EmptyOperator`](CurvatureError::EmptyOperator), and the
/// errors of the operator (a non-finite output is [`NonFinite`](CurvatureError::NonFinite)).
///
/// ```
/// use adjoint::curvature::{lanczos, LanczosSettings, LinearOperator, Which};
/// use nalgebra::{DMatrix, DVector};
///
/// // diag(1, 2, …, 100): the top three are 100, 99, 98.
/// let a = DMatrix::from_diagonal(&DVector::from_fn(100, |i, _| (i + 1) as f64));
/// let settings = LanczosSettings { ritz_vectors: true, ..Default::default() };
/// let top = lanczos(&a, Which::Largest, 3, &settings)?;
/// for (value, expected) in top.values.iter().zip([100.0, 99.0, 98.0]) {
///     assert!((value - expected).abs() < 1e-8, "{value}");
/// }
/// assert!(top.iterations < 100, "fewer applications than the dimension: {}", top.iterations);
///
/// // The Ritz vector of 100 is ±e₁₀₀.
/// let v = top.vectors.unwrap();
/// assert!((v[(99, 0)].abs() - 1.0).abs() < 1e-8);
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
pub fn lanczos<A: LinearOperator + ?Sized>(
    op: &A,
    which: Which,
    k: usize,
    settings: &LanczosSettings,
) -> Result<Eigenpairs, CurvatureError> {
    settings.validate()?;
    let n = nonempty_dim(op)?;
    if k == 0 || k > n {
        return Err(invalid("k", format!("a number of eigenvalues in 1..={n} (the dimension)"), k));
    }
    if settings.max_iterations < k {
        return Err(invalid("max_iterations", format!("at least k = {k}"), settings.max_iterations));
    }
    let run = run(op, n, Select::End(which, k), settings)?;
    let vectors = settings.ritz_vectors.then(|| run.ritz_vectors());
    let (values, residuals) = run.wanted.iter().map(|&i| (run.ritz.values[i], run.ritz.residuals[i])).unzip();
    Ok(Eigenpairs { values, vectors, residuals, iterations: run.iterations })
}

/// `λ_min` and `λ_max` of a symmetric operator, from one Lanczos run that stops when both are
/// converged (see [`lanczos`] for the method and its errors).
///
/// ```
/// use adjoint::curvature::{extreme_eigenvalues, LanczosSettings};
/// use nalgebra::DMatrix;
///
/// let saddle = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 1.0]); // eigenvalues −1 and 3
/// let e = extreme_eigenvalues(&saddle, &LanczosSettings::default())?;
/// assert!((e.min + 1.0).abs() < 1e-12 && (e.max - 3.0).abs() < 1e-12);
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
pub fn extreme_eigenvalues<A: LinearOperator + ?Sized>(
    op: &A,
    settings: &LanczosSettings,
) -> Result<ExtremeEigenvalues, CurvatureError> {
    settings.validate()?;
    let n = nonempty_dim(op)?;
    let run = run(op, n, Select::Ends, settings)?;
    let (lo, hi) = (run.wanted[0], run.wanted[1]);
    let values = &run.ritz.values;
    let scale = values[0].abs().max(values[values.len() - 1].abs());
    let floor = 4.0 * (n as f64).sqrt() * f64::EPSILON * scale;
    Ok(ExtremeEigenvalues {
        min: values[lo],
        max: values[hi],
        min_residual: run.ritz.residuals[lo].max(floor),
        max_residual: run.ritz.residuals[hi].max(floor),
        iterations: run.iterations,
    })
}

/// The condition number `κ = λ_max / λ_min` of a symmetric positive definite operator: the number of
/// gradient-descent steps per digit of accuracy on the quadratic it is the Hessian of.
///
/// Computed by [`extreme_eigenvalues`], so its relative accuracy is about `tolerance · κ` at worst and
/// usually far better. Errors with [`CurvatureError::NotPositiveDefinite`], saying what was found, when
/// `λ_min` is not positive beyond its error bound, and with the errors of [`lanczos`].
///
/// ```
/// use adjoint::curvature::{condition_number, CurvatureError, FnOperator, LanczosSettings};
///
/// // A diagonal Hessian with curvatures 1 … 1000 (log-spaced).
/// let d: Vec<f64> = (0..50).map(|i| 10f64.powf(3.0 * i as f64 / 49.0)).collect();
/// let op = FnOperator::new(50, |v: &[f64], out: &mut [f64]| {
///     for i in 0..50 {
///         out[i] = d[i] * v[i];
///     }
/// });
/// let kappa = condition_number(&op, &LanczosSettings::default())?;
/// assert!((kappa - 1000.0).abs() < 1e-6);
///
/// // A singular operator has no condition number.
/// let singular = FnOperator::new(2, |v: &[f64], out: &mut [f64]| out[0] = v[0]);
/// let err = condition_number(&singular, &LanczosSettings::default()).unwrap_err();
/// assert!(err.to_string().contains("singular"), "{err}");
/// # Ok::<(), CurvatureError>(())
/// ```
pub fn condition_number<A: LinearOperator + ?Sized>(op: &A, settings: &LanczosSettings) -> Result<f64, CurvatureError> {
    extreme_eigenvalues(op, settings)?.condition_number()
}

// ---------------------------------------------------------------------------------------------------
// The iteration
// ---------------------------------------------------------------------------------------------------

/// Which Ritz values a run waits for.
#[derive(Clone, Copy)]
enum Select {
    /// `k` at one end.
    End(Which, usize),
    /// The smallest and the largest.
    Ends,
}

impl Select {
    fn needed(self) -> usize {
        match self {
            Select::End(_, k) => k,
            Select::Ends => 1,
        }
    }

    /// Indices into ascending `values`, in the order they are reported.
    fn wanted(self, values: &[f64]) -> Vec<usize> {
        let m = values.len();
        match self {
            Select::End(Which::Largest, k) => (0..k).map(|i| m - 1 - i).collect(),
            Select::End(Which::Smallest, k) => (0..k).collect(),
            Select::End(Which::LargestMagnitude, k) => {
                let mut order: Vec<usize> = (0..m).collect();
                order.sort_by(|&i, &j| values[j].abs().total_cmp(&values[i].abs()));
                order.truncate(k);
                order
            }
            Select::Ends => vec![0, m - 1],
        }
    }
}

/// An orthonormal Krylov basis and the tridiagonal projection of the operator on it.
pub(super) struct Krylov<'a, A: ?Sized> {
    op: &'a A,
    n: usize,
    /// The basis vectors, one after another.
    basis: Vec<f64>,
    /// The diagonal of `T`.
    pub(super) alpha: Vec<f64>,
    /// The off-diagonal of `T`: `beta[j]` couples `q_j` and `q_{j+1}` (0 after a restart).
    pub(super) beta: Vec<f64>,
    /// The next, unnormalised vector.
    w: Vec<f64>,
    /// The largest `|α|` and `β` seen: an estimate of `‖A‖`.
    scale: f64,
}

impl<'a, A: LinearOperator + ?Sized> Krylov<'a, A> {
    /// A basis starting with the unit vector `start`.
    pub(super) fn new(op: &'a A, start: Vec<f64>) -> Self {
        let n = start.len();
        Krylov { op, n, basis: start, alpha: Vec::new(), beta: Vec::new(), w: vec![0.0; n], scale: 0.0 }
    }

    /// The number of basis vectors.
    pub(super) fn len(&self) -> usize {
        self.basis.len() / self.n
    }

    /// Applies the operator to the last basis vector, computes its diagonal entry of `T` and
    /// orthogonalises the result against the basis; returns its norm `β`.
    pub(super) fn step(&mut self) -> Result<f64, CurvatureError> {
        let (n, j) = (self.n, self.len() - 1);
        let q = &self.basis[j * n..];
        apply_checked(self.op, q, &mut self.w)?;
        let alpha = dot(q, &self.w);
        axpy(-alpha, q, &mut self.w);
        if j > 0 {
            axpy(-self.beta[j - 1], &self.basis[(j - 1) * n..j * n], &mut self.w);
        }
        orthogonalise(&self.basis, n, &mut self.w);
        let beta = norm(&self.w);
        // Finite products can still overflow in these sums.
        for value in [alpha, beta] {
            if !value.is_finite() {
                return Err(CurvatureError::NonFinite { what: "Lanczos coefficient", index: j, value });
            }
        }
        self.alpha.push(alpha);
        self.scale = self.scale.max(alpha.abs()).max(beta);
        Ok(beta)
    }

    /// Whether `β` is rounding noise: the Krylov space is invariant under the operator.
    pub(super) fn is_invariant(&self, beta: f64) -> bool {
        beta <= 32.0 * f64::EPSILON * (self.n as f64).sqrt() * self.scale
    }

    /// Appends the vector computed by the last [`step`](Self::step), of norm `beta`.
    pub(super) fn push_next(&mut self, beta: f64) {
        self.beta.push(beta);
        self.basis.extend(self.w.iter().map(|w| w / beta));
    }

    /// Appends a random unit vector orthogonal to the basis, after an invariant subspace; `false` if
    /// none could be found (the basis spans the space).
    pub(super) fn restart(&mut self, rng: &mut Rng) -> bool {
        for _ in 0..3 {
            self.w.iter_mut().for_each(|w| *w = rng.uniform());
            let before = norm(&self.w);
            orthogonalise(&self.basis, self.n, &mut self.w);
            let after = norm(&self.w);
            if after > 1e-6 * before {
                self.beta.push(0.0);
                self.basis.extend(self.w.iter().map(|w| w / after));
                return true;
            }
        }
        false
    }

    /// `Q s` for each column `s` of `coefficients` (`m × k`): the Ritz vectors, as an `n × k` matrix.
    pub(super) fn combine(&self, coefficients: &DMatrix<f64>) -> DMatrix<f64> {
        let (n, m) = (self.n, coefficients.nrows());
        let mut out = DMatrix::zeros(n, coefficients.ncols());
        for (c, mut column) in out.column_iter_mut().enumerate() {
            for j in 0..m {
                let s = coefficients[(j, c)];
                column.iter_mut().zip(&self.basis[j * n..(j + 1) * n]).for_each(|(o, q)| *o += s * q);
            }
        }
        out
    }
}

/// Removes from `w` its components along the `basis` vectors (each of length `n`): modified
/// Gram–Schmidt, repeated while a pass shrinks `w` by more than `1/√2` (at most three passes).
fn orthogonalise(basis: &[f64], n: usize, w: &mut [f64]) {
    for _ in 0..3 {
        let before = norm(w);
        for q in basis.chunks_exact(n) {
            let c = dot(q, w);
            axpy(-c, q, w);
        }
        if norm(w) >= core::f64::consts::FRAC_1_SQRT_2 * before {
            break;
        }
    }
}

struct Run<'a, A: ?Sized> {
    krylov: Krylov<'a, A>,
    ritz: Ritz,
    wanted: Vec<usize>,
    iterations: usize,
}

impl<A: LinearOperator + ?Sized> Run<'_, A> {
    fn ritz_vectors(&self) -> DMatrix<f64> {
        let m = self.ritz.values.len();
        let coefficients = DMatrix::from_fn(m, self.wanted.len(), |r, c| self.ritz.vectors[(r, self.wanted[c])]);
        self.krylov.combine(&coefficients)
    }
}

/// `residual / scale`, with `0/0 = 0`.
fn relative(residual: f64, scale: f64) -> f64 {
    if scale > 0.0 {
        residual / scale
    } else if residual == 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// Lanczos steps until the Ritz values `select` asks for have converged.
fn run<'a, A: LinearOperator + ?Sized>(
    op: &'a A,
    n: usize,
    select: Select,
    settings: &LanczosSettings,
) -> Result<Run<'a, A>, CurvatureError> {
    let mut rng = Rng::new(settings.seed);
    let mut krylov = Krylov::new(op, random_unit(n, &mut rng));
    let cap = settings.max_iterations.min(n);
    let needed = select.needed();
    let mut last_check = 0;
    loop {
        let beta = krylov.step()?;
        let m = krylov.len();
        let complete = m == n;
        let invariant = krylov.is_invariant(beta);
        let at_cap = m >= cap;
        let due = m <= 40 || m - last_check >= m / 8 || complete || invariant || at_cap;
        if m >= needed && due {
            last_check = m;
            let ritz = Ritz::new(&krylov.alpha, &krylov.beta, beta, true)?;
            let wanted = select.wanted(&ritz.values);
            let scale = ritz.values.iter().fold(0.0_f64, |s, t| s.max(t.abs()));
            let worst = wanted.iter().map(|&i| relative(ritz.residuals[i], scale)).fold(0.0, f64::max);
            if worst <= settings.tolerance || complete {
                return Ok(Run { krylov, ritz, wanted, iterations: m });
            }
            if at_cap {
                return Err(CurvatureError::NotConverged {
                    algorithm: "Lanczos",
                    iterations: m,
                    residual: worst,
                    tolerance: settings.tolerance,
                });
            }
        }
        if invariant {
            if !krylov.restart(&mut rng) {
                return Err(CurvatureError::Failed {
                    message: format!("Lanczos could not extend its basis of {m} vectors in dimension {n}"),
                });
            }
        } else {
            krylov.push_next(beta);
        }
    }
}
