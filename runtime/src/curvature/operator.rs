//! The operator abstraction and its adaptors.

use core::fmt;
use std::rc::Rc;
use std::sync::{Arc, Mutex, TryLockError};

use nalgebra::{DMatrix, DVectorView, DVectorViewMut};

use super::{check_finite, check_len, CurvatureError};
use crate::optim::SecondOrderObjective;

/// A linear map `v ↦ Av` on `ℝⁿ`, known only through its products: a Hessian `H(x)` through
/// Hessian-vector products, a Gauss–Newton or Fisher matrix, a dense matrix.
///
/// Implementations overwrite every component of `out`, and return
/// [`CurvatureError::DimensionMismatch`] when `v` or `out` does not have length [`dim`](Self::dim).
/// The algorithms of this module check the output for NaN and infinities themselves. The trait is
/// object safe, and implemented for references, `Box`, `Rc` and `Arc` of implementations and for
/// nalgebra's `DMatrix<f64>`.
///
/// ```
/// use adjoint::curvature::{CurvatureError, LinearOperator};
///
/// /// The 1-D discrete Laplacian `−u'' ` with zero boundary values: tridiagonal (−1, 2, −1).
/// struct Laplacian(usize);
///
/// impl LinearOperator for Laplacian {
///     fn dim(&self) -> usize {
///         self.0
///     }
///     fn apply(&self, v: &[f64], out: &mut [f64]) -> Result<(), CurvatureError> {
///         let n = self.0;
///         if v.len() != n || out.len() != n {
///             let (what, found) = if v.len() != n { ("v", v.len()) } else { ("out", out.len()) };
///             return Err(CurvatureError::DimensionMismatch { what, expected: n, found });
///         }
///         for i in 0..n {
///             let left = if i > 0 { v[i - 1] } else { 0.0 };
///             let right = if i + 1 < n { v[i + 1] } else { 0.0 };
///             out[i] = 2.0 * v[i] - left - right;
///         }
///         Ok(())
///     }
/// }
///
/// let mut out = [0.0; 3];
/// Laplacian(3).apply(&[1.0, 1.0, 1.0], &mut out)?;
/// assert_eq!(out, [1.0, 0.0, 1.0]);
///
/// // Its eigenvalues are 2 − 2 cos(kπ/(n+1)).
/// let top = adjoint::curvature::power_iteration(&Laplacian(10), &Default::default())?;
/// let exact = 2.0 - 2.0 * (10.0 * std::f64::consts::PI / 11.0).cos();
/// assert!((top.eigenvalue - exact).abs() < 1e-6 * exact);
/// # Ok::<(), CurvatureError>(())
/// ```
pub trait LinearOperator {
    /// The dimension `n` of the space the operator acts on.
    ///
    /// ```
    /// use adjoint::curvature::{FnOperator, LinearOperator};
    ///
    /// let identity = FnOperator::new(4, |v: &[f64], out: &mut [f64]| out.copy_from_slice(v));
    /// assert_eq!(identity.dim(), 4);
    /// ```
    fn dim(&self) -> usize;

    /// Writes `Av` into `out` (every component).
    ///
    /// ```
    /// use adjoint::curvature::LinearOperator;
    /// use nalgebra::DMatrix;
    ///
    /// let a = DMatrix::from_row_slice(2, 2, &[2.0, 1.0, 1.0, 3.0]);
    /// let mut out = [0.0; 2];
    /// a.apply(&[1.0, -1.0], &mut out)?;
    /// assert_eq!(out, [1.0, -2.0]);
    /// # Ok::<(), adjoint::curvature::CurvatureError>(())
    /// ```
    fn apply(&self, v: &[f64], out: &mut [f64]) -> Result<(), CurvatureError>;
}

macro_rules! forward_impls {
    ($($ptr:ty),*) => {$(
        impl<T: LinearOperator + ?Sized> LinearOperator for $ptr {
            fn dim(&self) -> usize {
                (**self).dim()
            }
            fn apply(&self, v: &[f64], out: &mut [f64]) -> Result<(), CurvatureError> {
                (**self).apply(v, out)
            }
        }
    )*};
}
forward_impls!(&T, &mut T, Box<T>, Rc<T>, Arc<T>);

/// Checks `v` and `out` against the dimension `n`.
fn check_buffers(n: usize, v: &[f64], out: &[f64]) -> Result<(), CurvatureError> {
    check_len("v", n, v.len())?;
    check_len("out", n, out.len())
}

/// A square matrix is the operator `v ↦ Mv`; a non-square one is an error when applied.
///
/// ```
/// use adjoint::curvature::{lanczos, LanczosSettings, LinearOperator, Which};
/// use nalgebra::DMatrix;
///
/// let m = DMatrix::from_diagonal(&nalgebra::DVector::from_vec(vec![1.0, 5.0, 3.0]));
/// assert_eq!(m.dim(), 3);
/// let top = lanczos(&m, Which::Largest, 2, &LanczosSettings::default())?;
/// assert!((top.values[0] - 5.0).abs() < 1e-12 && (top.values[1] - 3.0).abs() < 1e-12);
///
/// let wide = DMatrix::<f64>::zeros(2, 3);
/// assert!(wide.apply(&[0.0; 2], &mut [0.0; 2]).is_err());
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
impl LinearOperator for DMatrix<f64> {
    fn dim(&self) -> usize {
        self.nrows()
    }

    fn apply(&self, v: &[f64], out: &mut [f64]) -> Result<(), CurvatureError> {
        let n = self.nrows();
        check_len("matrix columns", n, self.ncols())?;
        check_buffers(n, v, out)?;
        let v = DVectorView::from_slice(v, n);
        let mut out = DVectorViewMut::from_slice(out, n);
        out.gemv(1.0, self, &v, 0.0);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------------
// Closures
// ---------------------------------------------------------------------------------------------------

/// An operator from a closure `|v, out|` that writes `Av` into `out`.
///
/// `out` is zeroed before the closure runs, so the closure may overwrite it or accumulate into it
/// (a generated `_vjp` adds into its buffer). Lengths are checked before the closure is called; the
/// closure's return value, if any, is ignored.
///
/// ```
/// use adjoint::curvature::{power_iteration, FnOperator, PowerSettings};
///
/// // A rank-one operator u uᵀ: its only non-zero eigenvalue is ‖u‖² = 14.
/// let u = [1.0, 2.0, 3.0];
/// let op = FnOperator::new(3, |v: &[f64], out: &mut [f64]| {
///     let s: f64 = u.iter().zip(v).map(|(a, b)| a * b).sum();
///     for (o, ui) in out.iter_mut().zip(&u) {
///         *o += s * ui;
///     }
/// });
/// let top = power_iteration(&op, &PowerSettings::default())?;
/// assert!((top.eigenvalue - 14.0).abs() < 1e-9);
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
#[derive(Clone)]
pub struct FnOperator<F> {
    dim: usize,
    f: F,
}

impl<F> FnOperator<F> {
    /// The operator of dimension `dim` computed by `f(v, out)`.
    ///
    /// ```
    /// use adjoint::curvature::{FnOperator, LinearOperator};
    ///
    /// let double = FnOperator::new(2, |v: &[f64], out: &mut [f64]| {
    ///     out[0] = 2.0 * v[0];
    ///     out[1] = 2.0 * v[1];
    /// });
    /// let mut out = [0.0; 2];
    /// double.apply(&[1.0, 3.0], &mut out)?;
    /// assert_eq!(out, [2.0, 6.0]);
    /// # Ok::<(), adjoint::curvature::CurvatureError>(())
    /// ```
    pub fn new<R>(dim: usize, f: F) -> Self
    where
        F: Fn(&[f64], &mut [f64]) -> R,
    {
        FnOperator { dim, f }
    }
}

impl<F, R> LinearOperator for FnOperator<F>
where
    F: Fn(&[f64], &mut [f64]) -> R,
{
    fn dim(&self) -> usize {
        self.dim
    }

    fn apply(&self, v: &[f64], out: &mut [f64]) -> Result<(), CurvatureError> {
        check_buffers(self.dim, v, out)?;
        out.fill(0.0);
        (self.f)(v, out);
        Ok(())
    }
}

impl<F> fmt::Debug for FnOperator<F> {
    /// ```
    /// let op = adjoint::curvature::FnOperator::new(2, |_: &[f64], _: &mut [f64]| {});
    /// assert_eq!(format!("{op:?}"), "FnOperator { dim: 2, .. }");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnOperator").field("dim", &self.dim).finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------------
// Hessians
// ---------------------------------------------------------------------------------------------------

/// A Hessian-vector product function `(x, v, out)`, as [`HessianAt`] calls it: implemented for
/// closures and functions `Fn(&[f64], &[f64], &mut [f64]) -> R` (any `R`, ignored) and for
/// [`HvpInto`], the adaptor of a generated `f_hvp_into`.
///
/// ```
/// use adjoint::curvature::HessianVectorProduct;
///
/// let double = |_: &[f64], v: &[f64], out: &mut [f64]| out.iter_mut().zip(v).for_each(|(o, vi)| *o = 2.0 * vi);
/// let mut out = [0.0; 2];
/// double.hessian_vector_product(&[0.0, 0.0], &[1.0, 3.0], &mut out);
/// assert_eq!(out, [2.0, 6.0]);
/// ```
pub trait HessianVectorProduct {
    /// Writes `H(x)·v` into `out` (zeroed by the caller; lengths already checked).
    ///
    /// ```
    /// use adjoint::curvature::HessianVectorProduct;
    ///
    /// let f = |x: &[f64], v: &[f64], out: &mut [f64]| out[0] = 6.0 * x[0] * v[0]; // f = x³
    /// let mut out = [0.0];
    /// f.hessian_vector_product(&[2.0], &[1.0], &mut out);
    /// assert_eq!(out, [12.0]);
    /// ```
    fn hessian_vector_product(&self, x: &[f64], v: &[f64], out: &mut [f64]);
}

impl<F, R> HessianVectorProduct for F
where
    F: Fn(&[f64], &[f64], &mut [f64]) -> R,
{
    fn hessian_vector_product(&self, x: &[f64], v: &[f64], out: &mut [f64]) {
        self(x, v, out);
    }
}

/// The Hessian `H(x)` of a function at a fixed point `x`, as the operator `v ↦ H(x)·v`, from a
/// Hessian-vector product.
///
/// [`HessianAt::new`] takes a function `hvp(x, v, out)`; [`HessianAt::from_hvp_into`] takes a generated
/// `f_hvp_into(x, v, grad, out)` by name. `out` is zeroed before the call (so an accumulating product
/// works), lengths are checked before it, the point is checked to be finite, and the function's return
/// value (the value of `f`) is ignored.
///
/// ```
/// use adjoint::curvature::{dense_hessian, HessianAt};
/// use nalgebra::DMatrix;
///
/// /// `f(x) = x₀² x₁ + x₁³`; `H = [[2x₁, 2x₀], [2x₀, 6x₁]]`.
/// fn hvp(x: &[f64], v: &[f64], out: &mut [f64]) -> f64 {
///     out[0] = 2.0 * x[1] * v[0] + 2.0 * x[0] * v[1];
///     out[1] = 2.0 * x[0] * v[0] + 6.0 * x[1] * v[1];
///     x[0] * x[0] * x[1] + x[1].powi(3)
/// }
///
/// let mut hessian = HessianAt::new(vec![1.0, 2.0], hvp);
/// let h = dense_hessian(&hessian)?;
/// assert_eq!(h.matrix, DMatrix::from_row_slice(2, 2, &[4.0, 2.0, 2.0, 12.0]));
///
/// // Move to another point, reusing the operator.
/// hessian.set_x(&[0.0, 1.0])?;
/// assert_eq!(dense_hessian(&hessian)?.matrix, DMatrix::from_row_slice(2, 2, &[2.0, 0.0, 0.0, 6.0]));
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
#[derive(Clone)]
pub struct HessianAt<F> {
    x: Vec<f64>,
    hvp: F,
}

impl<F> HessianAt<F> {
    /// The Hessian at `x` of the function whose Hessian-vector product is `hvp(x, v, out)`.
    ///
    /// ```
    /// use adjoint::curvature::{HessianAt, LinearOperator};
    ///
    /// // f(x) = Σ xᵢ⁴ / 4: H = diag(3xᵢ²).
    /// let h = HessianAt::new(vec![1.0, 2.0], |x: &[f64], v: &[f64], out: &mut [f64]| {
    ///     for i in 0..x.len() {
    ///         out[i] = 3.0 * x[i] * x[i] * v[i];
    ///     }
    /// });
    /// let mut out = [0.0; 2];
    /// h.apply(&[1.0, 1.0], &mut out)?;
    /// assert_eq!(out, [3.0, 12.0]);
    /// # Ok::<(), adjoint::curvature::CurvatureError>(())
    /// ```
    pub fn new<R>(x: impl Into<Vec<f64>>, hvp: F) -> Self
    where
        F: Fn(&[f64], &[f64], &mut [f64]) -> R,
    {
        HessianAt { x: x.into(), hvp }
    }

    /// The point the Hessian is taken at.
    ///
    /// ```
    /// let h = adjoint::curvature::HessianAt::new([1.0, 2.0], |_: &[f64], _: &[f64], _: &mut [f64]| {});
    /// assert_eq!(h.x(), &[1.0, 2.0]);
    /// ```
    pub fn x(&self) -> &[f64] {
        &self.x
    }

    /// Moves the point to `x`, which must have the same dimension.
    ///
    /// ```
    /// use adjoint::curvature::{CurvatureError, HessianAt};
    ///
    /// let mut h = HessianAt::new([1.0, 2.0], |_: &[f64], _: &[f64], _: &mut [f64]| {});
    /// h.set_x(&[3.0, 4.0])?;
    /// assert_eq!(h.x(), &[3.0, 4.0]);
    /// assert_eq!(h.set_x(&[1.0]), Err(CurvatureError::DimensionMismatch { what: "x", expected: 2, found: 1 }));
    /// # Ok::<(), CurvatureError>(())
    /// ```
    pub fn set_x(&mut self, x: &[f64]) -> Result<(), CurvatureError> {
        check_len("x", self.x.len(), x.len())?;
        self.x.copy_from_slice(x);
        Ok(())
    }
}

impl<G> HessianAt<HvpInto<G>> {
    /// The Hessian at `x` from a product in the form `#[differentiable]` generates,
    /// `f_hvp_into(x, v, grad, out)`, which also writes the gradient into `grad`: that goes to a scratch
    /// buffer allocated once (a concurrent call allocates its own).
    ///
    /// ```
    /// use adjoint::curvature::{condition_number, HessianAt, LanczosSettings};
    /// use adjoint::differentiable;
    ///
    /// /// An elongated bowl: curvatures 2 and 200.
    /// #[differentiable]
    /// fn bowl(x: &[f64]) -> f64 {
    ///     x[0] * x[0] + 100.0 * x[1] * x[1]
    /// }
    ///
    /// let hessian = HessianAt::from_hvp_into(vec![0.3, -0.2], bowl_hvp_into);
    /// let kappa = condition_number(&hessian, &LanczosSettings::default())?;
    /// assert!((kappa - 100.0).abs() < 1e-10);
    /// # Ok::<(), adjoint::curvature::CurvatureError>(())
    /// ```
    pub fn from_hvp_into<R>(x: impl Into<Vec<f64>>, f_hvp_into: G) -> Self
    where
        G: Fn(&[f64], &[f64], &mut [f64], &mut [f64]) -> R,
    {
        HessianAt { x: x.into(), hvp: HvpInto { f: f_hvp_into, scratch: Mutex::new(Vec::new()) } }
    }
}

impl<F: HessianVectorProduct> LinearOperator for HessianAt<F> {
    fn dim(&self) -> usize {
        self.x.len()
    }

    fn apply(&self, v: &[f64], out: &mut [f64]) -> Result<(), CurvatureError> {
        check_buffers(self.x.len(), v, out)?;
        check_finite("x", &self.x)?;
        out.fill(0.0);
        self.hvp.hessian_vector_product(&self.x, v, out);
        Ok(())
    }
}

impl<F> fmt::Debug for HessianAt<F> {
    /// ```
    /// let h = adjoint::curvature::HessianAt::new([1.0], |_: &[f64], _: &[f64], _: &mut [f64]| {});
    /// assert_eq!(format!("{h:?}"), "HessianAt { x: [1.0], .. }");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HessianAt").field("x", &self.x).finish_non_exhaustive()
    }
}

/// A generated `f_hvp_into(x, v, grad, out)` with a scratch buffer for the gradient it also computes;
/// built by [`HessianAt::from_hvp_into`].
///
/// ```
/// use adjoint::curvature::{HessianAt, HessianVectorProduct, HvpInto};
///
/// fn square_hvp_into(x: &[f64], v: &[f64], g: &mut [f64], hv: &mut [f64]) -> f64 {
///     g[0] = 2.0 * x[0];
///     hv[0] = 2.0 * v[0];
///     x[0] * x[0]
/// }
/// let h: HessianAt<HvpInto<_>> = HessianAt::from_hvp_into([3.0], square_hvp_into);
/// assert_eq!(h.x(), &[3.0]);
/// ```
pub struct HvpInto<G> {
    f: G,
    scratch: Mutex<Vec<f64>>,
}

impl<G, R> HessianVectorProduct for HvpInto<G>
where
    G: Fn(&[f64], &[f64], &mut [f64], &mut [f64]) -> R,
{
    /// ```
    /// use adjoint::curvature::{HessianAt, LinearOperator};
    ///
    /// fn cube_hvp_into(x: &[f64], v: &[f64], g: &mut [f64], hv: &mut [f64]) -> f64 {
    ///     g[0] = 3.0 * x[0] * x[0];
    ///     hv[0] = 6.0 * x[0] * v[0];
    ///     x[0].powi(3)
    /// }
    /// let mut out = [0.0];
    /// HessianAt::from_hvp_into([2.0], cube_hvp_into).apply(&[1.0], &mut out)?;
    /// assert_eq!(out, [12.0]);
    /// # Ok::<(), adjoint::curvature::CurvatureError>(())
    /// ```
    fn hessian_vector_product(&self, x: &[f64], v: &[f64], out: &mut [f64]) {
        let mut own = Vec::new();
        let mut guard = match self.scratch.try_lock() {
            Ok(guard) => Some(guard),
            // Poisoned by a panic in `f`: the buffer is only scratch, so take it anyway.
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            // In use by a concurrent or re-entrant call: allocate rather than wait.
            Err(TryLockError::WouldBlock) => None,
        };
        let grad = guard.as_deref_mut().unwrap_or(&mut own);
        grad.clear();
        grad.resize(x.len(), 0.0);
        (self.f)(x, v, grad, out);
    }
}

impl<G: Clone> Clone for HvpInto<G> {
    /// A copy with its own scratch buffer.
    ///
    /// ```
    /// fn hvp_into(_: &[f64], v: &[f64], _: &mut [f64], hv: &mut [f64]) { hv.copy_from_slice(v) }
    /// let h = adjoint::curvature::HessianAt::from_hvp_into([1.0], hvp_into);
    /// let copy = h.clone();
    /// assert_eq!(copy.x(), h.x());
    /// ```
    fn clone(&self) -> Self {
        HvpInto { f: self.f.clone(), scratch: Mutex::new(Vec::new()) }
    }
}

impl<G> fmt::Debug for HvpInto<G> {
    /// ```
    /// fn hvp_into(_: &[f64], v: &[f64], _: &mut [f64], hv: &mut [f64]) { hv.copy_from_slice(v) }
    /// let h = adjoint::curvature::HessianAt::from_hvp_into([1.0], hvp_into);
    /// assert_eq!(format!("{h:?}"), "HessianAt { x: [1.0], .. }");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HvpInto").finish_non_exhaustive()
    }
}

/// The Hessian of a [`SecondOrderObjective`] at a point `x`, as an operator: its
/// [`hessian_vector_product`](SecondOrderObjective::hessian_vector_product) at `x`, with the objective's
/// errors wrapped in [`CurvatureError::Objective`].
///
/// The bridge from the optimisers' objectives to curvature: how ill-conditioned is the minimum an
/// optimiser found, is a stationary point a minimum or a saddle.
///
/// ```
/// use adjoint::curvature::{extreme_eigenvalues, LanczosSettings, ObjectiveHessian};
/// use adjoint::optim::FnSecondOrder;
///
/// // f(x, y) = x² − y²: a saddle at the origin.
/// let f = FnSecondOrder::new(2, (), |x, _| x[0] * x[0] - x[1] * x[1],
///     |x, _, g| { g[0] = 2.0 * x[0]; g[1] = -2.0 * x[1]; x[0] * x[0] - x[1] * x[1] },
///     |_, _, v, hv| { hv[0] = 2.0 * v[0]; hv[1] = -2.0 * v[1]; });
/// let hessian = ObjectiveHessian::new(&f, vec![0.0, 0.0])?;
/// let e = extreme_eigenvalues(&hessian, &LanczosSettings::default())?;
/// assert_eq!((e.min, e.max), (-2.0, 2.0));
/// # Ok::<(), adjoint::curvature::CurvatureError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ObjectiveHessian<O> {
    objective: O,
    x: Vec<f64>,
}

impl<O: SecondOrderObjective> ObjectiveHessian<O> {
    /// The Hessian of `objective` at `x`; errors if `x` does not have the objective's dimension.
    ///
    /// ```
    /// use adjoint::curvature::{CurvatureError, ObjectiveHessian};
    /// use adjoint::optim::FnSecondOrder;
    ///
    /// let f = FnSecondOrder::new(2, (), |_, _| 0.0, |_, _, _| 0.0, |_, _, _, _| {});
    /// let err = ObjectiveHessian::new(&f, vec![0.0; 3]).unwrap_err();
    /// assert_eq!(err, CurvatureError::DimensionMismatch { what: "x", expected: 2, found: 3 });
    /// ```
    pub fn new(objective: O, x: impl Into<Vec<f64>>) -> Result<Self, CurvatureError> {
        let x = x.into();
        check_len("x", objective.dim(), x.len())?;
        Ok(ObjectiveHessian { objective, x })
    }

    /// The point the Hessian is taken at.
    ///
    /// ```
    /// use adjoint::curvature::ObjectiveHessian;
    /// use adjoint::optim::FnSecondOrder;
    ///
    /// let f = FnSecondOrder::new(1, (), |_, _| 0.0, |_, _, _| 0.0, |_, _, _, _| {});
    /// assert_eq!(ObjectiveHessian::new(&f, [4.0])?.x(), &[4.0]);
    /// # Ok::<(), adjoint::curvature::CurvatureError>(())
    /// ```
    pub fn x(&self) -> &[f64] {
        &self.x
    }

    /// Moves the point to `x`, which must have the same dimension.
    ///
    /// ```
    /// use adjoint::curvature::ObjectiveHessian;
    /// use adjoint::optim::FnSecondOrder;
    ///
    /// let f = FnSecondOrder::new(1, (), |_, _| 0.0, |_, _, _| 0.0, |_, _, _, _| {});
    /// let mut h = ObjectiveHessian::new(&f, [4.0])?;
    /// h.set_x(&[5.0])?;
    /// assert_eq!(h.x(), &[5.0]);
    /// assert!(h.set_x(&[1.0, 2.0]).is_err());
    /// # Ok::<(), adjoint::curvature::CurvatureError>(())
    /// ```
    pub fn set_x(&mut self, x: &[f64]) -> Result<(), CurvatureError> {
        check_len("x", self.x.len(), x.len())?;
        self.x.copy_from_slice(x);
        Ok(())
    }

    /// The objective.
    ///
    /// ```
    /// use adjoint::curvature::ObjectiveHessian;
    /// use adjoint::objective::Objective;
    /// use adjoint::optim::FnSecondOrder;
    ///
    /// let f = FnSecondOrder::new(1, (), |x, _| x[0], |_, _, g| { g[0] = 1.0; 0.0 }, |_, _, _, _| {});
    /// let h = ObjectiveHessian::new(f, [4.0])?;
    /// assert_eq!(h.objective().value(&[2.0])?, 2.0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn objective(&self) -> &O {
        &self.objective
    }
}

impl<O: SecondOrderObjective> LinearOperator for ObjectiveHessian<O> {
    fn dim(&self) -> usize {
        self.x.len()
    }

    fn apply(&self, v: &[f64], out: &mut [f64]) -> Result<(), CurvatureError> {
        check_buffers(self.x.len(), v, out)?;
        Ok(self.objective.hessian_vector_product(&self.x, v, out)?)
    }
}
