//! The eigen-decomposition of the Lanczos tridiagonal matrix, and its refinement.

use nalgebra::{DMatrix, SymmetricEigen};

use super::{dot, norm, CurvatureError};

/// The eigen-decomposition of the tridiagonal `T`, sorted by ascending eigenvalue.
pub(super) struct Ritz {
    pub(super) values: Vec<f64>,
    /// The eigenvectors `s` of `T`, as columns in the order of `values`.
    pub(super) vectors: DMatrix<f64>,
    /// `√(‖Ts − θs‖² + β² s_m²)`: the residual norm `‖AQs − θQs‖` of each Ritz pair.
    pub(super) residuals: Vec<f64>,
}

impl Ritz {
    /// Decomposes the `m × m` tridiagonal matrix with diagonal `alpha` and off-diagonal `beta[..m−1]`;
    /// `last_beta` is the norm of the next, unnormalised Lanczos vector.
    ///
    /// nalgebra's `SymmetricEigen` occasionally returns eigenpairs of a Lanczos tridiagonal with
    /// residuals `‖Ts − θs‖` far above rounding (`10⁻⁹ ‖T‖` has been seen), so each eigenvalue is replaced
    /// by the Rayleigh quotient `sᵀTs`, and with `refine` a pair whose residual is large is improved
    /// by Rayleigh quotient iteration on `T` (`O(m)` per step). The residual reported includes
    /// `‖Ts − θs‖`, so it is the true residual of the Ritz pair whatever the eigensolver did.
    pub(super) fn new(alpha: &[f64], beta: &[f64], last_beta: f64, refine: bool) -> Result<Ritz, CurvatureError> {
        let m = alpha.len();
        let t = DMatrix::from_fn(m, m, |i, j| {
            if i == j {
                alpha[i]
            } else if i == j + 1 {
                beta[j]
            } else if j == i + 1 {
                beta[i]
            } else {
                0.0
            }
        });
        let max_iterations = 1000 * m + 1000;
        let eigen = SymmetricEigen::try_new(t, f64::EPSILON, max_iterations).ok_or(CurvatureError::NotConverged {
            algorithm: "tridiagonal eigensolver",
            iterations: max_iterations,
            residual: f64::NAN,
            tolerance: f64::EPSILON,
        })?;
        let t_norm = eigen.eigenvalues.iter().fold(0.0_f64, |a, t| a.max(t.abs()));
        let mut pairs: Vec<(f64, Vec<f64>, f64)> = (0..m)
            .map(|c| {
                let mut s: Vec<f64> = eigen.eigenvectors.column(c).iter().copied().collect();
                let (mut theta, mut rho) = rayleigh(alpha, beta, &s);
                if refine && rho > 64.0 * f64::EPSILON * t_norm {
                    improve(alpha, beta, t_norm, &mut s, &mut theta, &mut rho);
                }
                (theta, s, rho)
            })
            .collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let values = pairs.iter().map(|p| p.0).collect();
        let vectors = DMatrix::from_fn(m, m, |r, c| pairs[c].1[r]);
        let residuals = pairs.iter().map(|(_, s, rho)| rho.hypot(last_beta * s[m - 1])).collect();
        Ok(Ritz { values, vectors, residuals })
    }
}

/// `T s` for the symmetric tridiagonal `T` (diagonal `alpha`, off-diagonal `beta`).
fn tridiagonal_times(alpha: &[f64], beta: &[f64], s: &[f64]) -> Vec<f64> {
    let m = alpha.len();
    (0..m)
        .map(|i| {
            let mut y = alpha[i] * s[i];
            if i > 0 {
                y += beta[i - 1] * s[i - 1];
            }
            if i + 1 < m {
                y += beta[i] * s[i + 1];
            }
            y
        })
        .collect()
}

/// The Rayleigh quotient `θ = sᵀTs / sᵀs` and the residual `‖Ts − θs‖ / ‖s‖`.
fn rayleigh(alpha: &[f64], beta: &[f64], s: &[f64]) -> (f64, f64) {
    let ts = tridiagonal_times(alpha, beta, s);
    let ss = dot(s, s);
    let theta = dot(s, &ts) / ss;
    let rho = ts.iter().zip(s).map(|(y, x)| (y - theta * x).powi(2)).sum::<f64>().sqrt() / ss.sqrt();
    (theta, rho)
}

/// Up to three steps of Rayleigh quotient iteration on `T` from the unit vector `s`, each kept only if
/// it lowers the residual and its eigenvalue stays within the starting residual of the starting one (so
/// it cannot wander to a neighbouring eigenvalue).
fn improve(alpha: &[f64], beta: &[f64], t_norm: f64, s: &mut Vec<f64>, theta: &mut f64, rho: &mut f64) {
    let (theta0, rho0) = (*theta, *rho);
    for _ in 0..3 {
        let shifted: Vec<f64> = alpha.iter().map(|a| a - *theta).collect();
        let mut y = s.clone();
        solve_tridiagonal(&shifted, beta, &mut y, f64::EPSILON * t_norm.max(f64::MIN_POSITIVE));
        let size = norm(&y);
        if !size.is_finite() || size == 0.0 {
            return;
        }
        y.iter_mut().for_each(|c| *c /= size);
        let (t1, r1) = rayleigh(alpha, beta, &y);
        if r1.is_nan() || r1 >= *rho || (t1 - theta0).abs() > rho0 {
            return;
        }
        (*s, *theta, *rho) = (y, t1, r1);
        if r1 <= 64.0 * f64::EPSILON * t_norm {
            return;
        }
    }
}

/// Solves `(tridiag(beta, d, beta)) x = b` in place by Gaussian elimination with partial pivoting
/// (LAPACK's `dgtsv`); a zero pivot is replaced by `tiny`, as inverse iteration does.
pub(super) fn solve_tridiagonal(d: &[f64], beta: &[f64], b: &mut [f64], tiny: f64) {
    let m = d.len();
    let mut d = d.to_vec();
    let mut du = beta[..m - 1].to_vec();
    // Below the diagonal before elimination; the second superdiagonal after it.
    let mut dl = beta[..m - 1].to_vec();
    let pivot = |x: f64| if x == 0.0 { tiny } else { x };
    for i in 0..m.saturating_sub(1) {
        if d[i].abs() >= dl[i].abs() {
            d[i] = pivot(d[i]);
            let fact = dl[i] / d[i];
            d[i + 1] -= fact * du[i];
            b[i + 1] -= fact * b[i];
            dl[i] = 0.0;
        } else {
            let fact = d[i] / dl[i];
            d[i] = dl[i];
            let temp = d[i + 1];
            d[i + 1] = du[i] - fact * temp;
            if i + 2 < m {
                dl[i] = du[i + 1];
                du[i + 1] = -fact * dl[i];
            } else {
                dl[i] = 0.0;
            }
            du[i] = temp;
            let temp = b[i];
            b[i] = b[i + 1];
            b[i + 1] = temp - fact * b[i + 1];
        }
    }
    d[m - 1] = pivot(d[m - 1]);
    b[m - 1] /= d[m - 1];
    if m > 1 {
        b[m - 2] = (b[m - 2] - du[m - 2] * b[m - 1]) / d[m - 2];
    }
    for i in (0..m.saturating_sub(2)).rev() {
        b[i] = (b[i] - du[i] * b[i + 1] - dl[i] * b[i + 2]) / d[i];
    }
}
