//! Dense Hessians from Hessian-vector products, and Jacobians from JVPs or VJPs.

use nalgebra::DMatrix;

use super::{CurvatureError, LinearOperator};

/// A dense Hessian assembled by [`dense_hessian`], symmetrised, with how asymmetric the products were.
///
/// ```
/// use adjoint::curvature::{dense_hessian, FnOperator};
///
/// // A slightly non-symmetric operator: [[1, 2], [2.5, 3]].
/// let op = FnOperator::new(2, |v: &[f64], out: &mut [f64]| {
///     out[0] = v[0] + 2.0 * v[1];
///     out[1] = 2.5 * v[0] + 3.0 * v[1];
/// });
/// let h = dense_hessian(&op)?;
/// assert_eq!(h.matrix, nalgebra::DMatrix::from_row_slice(2, 2, &[1.0, 2.25, 2.25, 3.0]));
/// assert_eq!(h.asymmetry, 0.5);
/// assert_eq!(h.relative_asymmetry, 0.5 / 3.0);
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct DenseHessian {
    /// `(M + Mᵀ)/2`, where column `j` of `M` is the product with the unit vector `eⱼ`.
    pub matrix: DMatrix<f64>,
    /// `max |Mᵢⱼ − Mⱼᵢ|`: zero up to rounding for an exact Hessian; a large value means the products
    /// are not those of a symmetric operator (a bug, or a function that is not twice differentiable
    /// at the point).
    pub asymmetry: f64,
    /// `asymmetry / max |Mᵢⱼ|` (0 for the zero matrix).
    pub relative_asymmetry: f64,
}

/// The Hessian as a dense `n × n` matrix, from `n` products with the unit vectors (column `j` is
/// `H eⱼ`), symmetrised as `(M + Mᵀ)/2`, with the asymmetry of `M` reported.
///
/// For small `n`: `n` Hessian-vector products and `n²` numbers, after which any dense method applies
/// (nalgebra's `SymmetricEigen`, a Cholesky factorisation for Newton's step). An operator of dimension 0
/// gives a `0 × 0` matrix. Errors with [`CurvatureError::NonFiniteEntry`] naming the first non-finite
/// entry, and with the errors of the operator.
///
/// ```
/// use adjoint::curvature::{dense_hessian, HessianAt};
///
/// /// `f(x) = ½ xᵀAx` with A = [[4, 1], [1, 3]]: H = A everywhere.
/// fn hvp(_: &[f64], v: &[f64], out: &mut [f64]) {
///     out[0] = 4.0 * v[0] + v[1];
///     out[1] = v[0] + 3.0 * v[1];
/// }
/// let h = dense_hessian(&HessianAt::new([0.3, -0.7], hvp))?;
/// assert_eq!(h.matrix, nalgebra::DMatrix::from_row_slice(2, 2, &[4.0, 1.0, 1.0, 3.0]));
/// assert_eq!(h.asymmetry, 0.0);
///
/// // Newton's step −H⁻¹g solves the quadratic in one step.
/// let g = nalgebra::DVector::from_vec(vec![4.0 * 0.3 - 0.7, 0.3 - 3.0 * 0.7]);
/// let step = h.matrix.cholesky().unwrap().solve(&g);
/// assert!((0.3 - step[0]).abs() < 1e-12 && (-0.7 - step[1]).abs() < 1e-12);
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
pub fn dense_hessian<A: LinearOperator + ?Sized>(op: &A) -> Result<DenseHessian, CurvatureError> {
    let n = op.dim();
    let mut m = DMatrix::zeros(n, n);
    let mut e = vec![0.0; n];
    for j in 0..n {
        e[j] = 1.0;
        // A column of a column-major matrix is contiguous.
        let out = &mut m.as_mut_slice()[j * n..(j + 1) * n];
        op.apply(&e, out)?;
        if let Some(i) = out.iter().position(|c| !c.is_finite()) {
            return Err(CurvatureError::NonFiniteEntry { matrix: "Hessian", row: i, column: j, value: out[i] });
        }
        e[j] = 0.0;
    }
    let mut asymmetry = 0.0_f64;
    for j in 0..n {
        for i in 0..j {
            asymmetry = asymmetry.max((m[(i, j)] - m[(j, i)]).abs());
        }
    }
    let largest = m.iter().fold(0.0_f64, |s, c| s.max(c.abs()));
    let relative_asymmetry = if largest > 0.0 { asymmetry / largest } else { 0.0 };
    let matrix = (&m + m.transpose()) * 0.5;
    Ok(DenseHessian { matrix, asymmetry, relative_asymmetry })
}

/// How [`jacobian`] builds an `m × n` Jacobian.
///
/// ```
/// use adjoint::curvature::{jacobian_mode, JacobianMode};
///
/// assert_eq!(jacobian_mode(1, 1000), JacobianMode::Reverse); // a gradient: one VJP
/// assert_eq!(jacobian_mode(1000, 1), JacobianMode::Forward); // a curve's tangent: one JVP
/// assert_eq!(jacobian_mode(3, 3), JacobianMode::Forward);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JacobianMode {
    /// Column by column, `n` Jacobian-vector products `J eⱼ`.
    Forward,
    /// Row by row, `m` vector-Jacobian products `eᵢᵀ J`.
    Reverse,
}

/// The cheaper way to build an `m × n` Jacobian (`rows = m` outputs, `cols = n` inputs): reverse mode
/// (`m` VJPs) when `m < n`, forward mode (`n` JVPs) otherwise. A VJP usually costs a few JVPs, so ties
/// go to forward mode.
///
/// ```
/// use adjoint::curvature::{jacobian_mode, JacobianMode};
///
/// assert_eq!(jacobian_mode(2, 3), JacobianMode::Reverse);
/// ```
pub fn jacobian_mode(rows: usize, cols: usize) -> JacobianMode {
    if rows < cols {
        JacobianMode::Reverse
    } else {
        JacobianMode::Forward
    }
}

/// The `rows × cols` Jacobian of a function `ℝ^cols → ℝ^rows` at a point, column by column from a
/// Jacobian-vector product `jvp(v, out)` writing `J v` into `out` (length `rows`).
///
/// `out` is zeroed before each call. The closure's return value (the function's value, say) is ignored.
/// Errors with [`CurvatureError::NonFiniteEntry`] for the first non-finite entry.
///
/// ```
/// use adjoint::{curvature::jacobian_forward, differentiable};
///
/// /// Polar to Cartesian coordinates.
/// #[differentiable]
/// fn cartesian(p: &[f64]) -> Vec<f64> {
///     vec![p[0] * p[1].cos(), p[0] * p[1].sin()]
/// }
///
/// let p = [2.0, 0.5];
/// let j = jacobian_forward(2, 2, |v: &[f64], out: &mut [f64]| {
///     out.copy_from_slice(&cartesian_jvp(&p, v).1);
/// })?;
/// assert!((j[(0, 1)] + 2.0 * 0.5_f64.sin()).abs() < 1e-15);
/// assert!((j.determinant() - 2.0).abs() < 1e-12); // the area element r
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
pub fn jacobian_forward<F, R>(rows: usize, cols: usize, mut jvp: F) -> Result<DMatrix<f64>, CurvatureError>
where
    F: FnMut(&[f64], &mut [f64]) -> R,
{
    let mut j = DMatrix::zeros(rows, cols);
    let mut e = vec![0.0; cols];
    for c in 0..cols {
        e[c] = 1.0;
        let out = &mut j.as_mut_slice()[c * rows..(c + 1) * rows];
        jvp(&e, out);
        if let Some(r) = out.iter().position(|x| !x.is_finite()) {
            return Err(CurvatureError::NonFiniteEntry { matrix: "Jacobian", row: r, column: c, value: out[r] });
        }
        e[c] = 0.0;
    }
    Ok(j)
}

/// The `rows × cols` Jacobian of a function `ℝ^cols → ℝ^rows` at a point, row by row from a
/// vector-Jacobian product `vjp(u, out)` writing `uᵀ J` into `out` (length `cols`).
///
/// `out` is zeroed before each call, so a generated `_vjp`, which adds into its buffer, can be passed
/// directly. The closure's return value is ignored. Errors with [`CurvatureError::NonFiniteEntry`] for
/// the first non-finite entry.
///
/// ```
/// use adjoint::{curvature::jacobian_reverse, differentiable};
///
/// /// Three inputs, two outputs.
/// #[differentiable]
/// fn f(x: &[f64]) -> Vec<f64> {
///     vec![x[0] * x[1], x[1] + x[2] * x[2]]
/// }
///
/// let x = [1.0, 2.0, 3.0];
/// let j = jacobian_reverse(2, 3, |u: &[f64], out: &mut [f64]| f_vjp(&x, u.to_vec(), out))?;
/// assert_eq!(j, nalgebra::DMatrix::from_row_slice(2, 3, &[2.0, 1.0, 0.0, 0.0, 1.0, 6.0]));
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
pub fn jacobian_reverse<G, R>(rows: usize, cols: usize, mut vjp: G) -> Result<DMatrix<f64>, CurvatureError>
where
    G: FnMut(&[f64], &mut [f64]) -> R,
{
    let mut j = DMatrix::zeros(rows, cols);
    let mut u = vec![0.0; rows];
    let mut out = vec![0.0; cols];
    for r in 0..rows {
        u[r] = 1.0;
        out.fill(0.0);
        vjp(&u, &mut out);
        if let Some(c) = out.iter().position(|x| !x.is_finite()) {
            return Err(CurvatureError::NonFiniteEntry { matrix: "Jacobian", row: r, column: c, value: out[c] });
        }
        j.row_mut(r).iter_mut().zip(&out).for_each(|(a, b)| *a = *b);
        u[r] = 0.0;
    }
    Ok(j)
}

/// The `rows × cols` Jacobian from whichever of a JVP and a VJP closure is cheaper for its shape
/// ([`jacobian_mode`]): `rows` VJPs when `rows < cols`, else `cols` JVPs. The other closure is not
/// called. See [`jacobian_forward`] and [`jacobian_reverse`] for the closures' contract.
///
/// ```
/// use adjoint::{curvature::jacobian, differentiable};
///
/// #[differentiable]
/// fn softmax(x: &[f64]) -> Vec<f64> {
///     let mut z = 0.0;
///     for i in 0..x.len() {
///         z += x[i].exp();
///     }
///     let mut s = vec![0.0; x.len()];
///     for i in 0..x.len() {
///         s[i] = x[i].exp() / z;
///     }
///     s
/// }
///
/// let x = [0.5, -1.0, 2.0];
/// let j = jacobian(
///     3,
///     3,
///     |v: &[f64], out: &mut [f64]| out.copy_from_slice(&softmax_jvp(&x, v).1),
///     |u: &[f64], out: &mut [f64]| softmax_vjp(&x, u.to_vec(), out),
/// )?;
/// let s = softmax(&x);
/// for r in 0..3 {
///     for c in 0..3 {
///         let expected = s[r] * (if r == c { 1.0 } else { 0.0 } - s[c]);
///         assert!((j[(r, c)] - expected).abs() < 1e-15);
///     }
/// }
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
pub fn jacobian<F, G, R1, R2>(rows: usize, cols: usize, jvp: F, vjp: G) -> Result<DMatrix<f64>, CurvatureError>
where
    F: FnMut(&[f64], &mut [f64]) -> R1,
    G: FnMut(&[f64], &mut [f64]) -> R2,
{
    match jacobian_mode(rows, cols) {
        JacobianMode::Forward => jacobian_forward(rows, cols, jvp),
        JacobianMode::Reverse => jacobian_reverse(rows, cols, vjp),
    }
}
