//! [`SecondOrderObjective`], objectives with exact Hessian-vector products, and its adaptors:
//! [`FnSecondOrder`] over flat `&[f64]` points and [`TangentSecondOrder`] over structured parameters.

use core::fmt;
use std::sync::Arc;

use crate::objective::{check_finite, check_len, FnObjective, Objective, ObjectiveError, TangentObjective};
use crate::tangent::Tangent;

/// An [`Objective`] that can also multiply a vector by its Hessian: `out = ∇²f(x) v`, exactly (up to
/// rounding), without forming `∇²f(x)`.
///
/// What [`Newton`](super::Newton) and [`NewtonCg`](super::NewtonCg) need. Build one from functions
/// with [`FnSecondOrder`]. The contract extends the one of [`Objective`] (see the
/// [`objective` module](crate::objective)):
///
/// - `x`, `v` and `out` must have length [`dim`](Objective::dim), or the result is
///   [`ObjectiveError::DimensionMismatch`], checked before evaluating anything;
/// - a non-finite component of `x` or `v` is [`ObjectiveError::NonFinite`], without evaluating;
/// - on `Ok`, every component of `out` has been written and is finite; a non-finite product is
///   [`ObjectiveError::NonFinite`] with `what: "hessian-vector product"`.
///
/// The product is linear in `v` and, for a twice continuously differentiable `f`, symmetric:
/// `uᵀ(H v) = vᵀ(H u)`. The trait is object safe.
///
/// ```
/// use adjoint::objective::Objective;
/// use adjoint::optim::{FnSecondOrder, SecondOrderObjective};
///
/// // f(x, y) = x² y, with Hessian [[2y, 2x], [2x, 0]].
/// let f = FnSecondOrder::new(2, (), |x, _| x[0] * x[0] * x[1],
///     |x, _, g| { g[0] = 2.0 * x[0] * x[1]; g[1] = x[0] * x[0]; x[0] * x[0] * x[1] },
///     |x, _, v, hv| {
///         hv[0] = 2.0 * x[1] * v[0] + 2.0 * x[0] * v[1];
///         hv[1] = 2.0 * x[0] * v[0];
///     });
/// let solver: Box<dyn SecondOrderObjective> = Box::new(f);
/// let mut hv = [0.0; 2];
/// solver.hessian_vector_product(&[1.0, 3.0], &[1.0, 1.0], &mut hv)?;
/// assert_eq!(hv, [8.0, 2.0]);
/// assert_eq!(solver.value(&[1.0, 3.0])?, 3.0);
/// # Ok::<(), adjoint::objective::ObjectiveError>(())
/// ```
pub trait SecondOrderObjective: Objective {
    /// Writes the Hessian of the objective at `x` times `v` into `out` (every component overwritten).
    ///
    /// ```
    /// use adjoint::optim::{FnSecondOrder, SecondOrderObjective};
    ///
    /// // f = Σ xᵢ⁴ / 4: the Hessian is diag(3xᵢ²).
    /// let f = FnSecondOrder::new(3, (), |x, _| x.iter().map(|c| c.powi(4) / 4.0).sum(),
    ///     |x, _, g| { for (gi, xi) in g.iter_mut().zip(x) { *gi = xi.powi(3) } x.iter().map(|c| c.powi(4) / 4.0).sum() },
    ///     |x, _, v, hv| { for i in 0..x.len() { hv[i] = 3.0 * x[i] * x[i] * v[i] } });
    /// let mut hv = [f64::NAN; 3];
    /// f.hessian_vector_product(&[1.0, 2.0, 0.0], &[1.0, -1.0, 5.0], &mut hv)?;
    /// assert_eq!(hv, [3.0, -12.0, 0.0]);
    /// # Ok::<(), adjoint::objective::ObjectiveError>(())
    /// ```
    fn hessian_vector_product(&self, x: &[f64], v: &[f64], out: &mut [f64]) -> Result<(), ObjectiveError>;
}

macro_rules! forward_impls {
    ($($ptr:ty),*) => {$(
        impl<T: SecondOrderObjective + ?Sized> SecondOrderObjective for $ptr {
            fn hessian_vector_product(&self, x: &[f64], v: &[f64], out: &mut [f64]) -> Result<(), ObjectiveError> {
                (**self).hessian_vector_product(x, v, out)
            }
        }
    )*};
}
forward_impls!(&T, Box<T>, Arc<T>);

/// A [`SecondOrderObjective`] over a flat `&[f64]`: the value and value-and-gradient functions of
/// [`FnObjective`], plus a Hessian-vector product function, all called with the point and a reference
/// to `data`.
///
/// The product function is called as `hessian_vector_product(x, &data, v, out)` with a zeroed `out` of
/// length `dim`, so it may overwrite it or accumulate into it. Value and gradient are checked exactly as
/// by [`FnObjective`] (it is one, inside); the product as the [trait](SecondOrderObjective) says.
///
/// ```
/// use adjoint::objective::Objective;
/// use adjoint::optim::{FnSecondOrder, Newton, SecondOrderObjective};
///
/// /// Weighted quartic-plus-quadratic terms: f = Σ wᵢ (xᵢ⁴/4 + xᵢ²/2).
/// pub struct Weights(pub Vec<f64>);
///
/// let f = FnSecondOrder::new(
///     3,
///     Weights(vec![1.0, 10.0, 100.0]),
///     |x, w: &Weights| x.iter().zip(&w.0).map(|(c, wi)| wi * (c.powi(4) / 4.0 + c * c / 2.0)).sum(),
///     |x, w, g| {
///         for i in 0..3 {
///             g[i] = w.0[i] * (x[i].powi(3) + x[i]);
///         }
///         x.iter().zip(&w.0).map(|(c, wi)| wi * (c.powi(4) / 4.0 + c * c / 2.0)).sum()
///     },
///     |x, w, v, hv| {
///         for i in 0..3 {
///             hv[i] = w.0[i] * (3.0 * x[i] * x[i] + 1.0) * v[i];
///         }
///     },
/// );
/// let mut hv = [0.0; 3];
/// f.hessian_vector_product(&[1.0, 0.0, 0.0], &[1.0, 1.0, 1.0], &mut hv)?;
/// assert_eq!(hv, [4.0, 10.0, 100.0]);
///
/// let report = Newton::default().minimise(&f, &[1.0, -2.0, 0.5]).unwrap();
/// assert!(report.converged() && report.x.iter().all(|c| c.abs() < 1e-10));
///
/// // Wrong lengths are errors, not panics.
/// let err = f.hessian_vector_product(&[1.0, 0.0, 0.0], &[1.0], &mut hv).unwrap_err();
/// assert_eq!(err.to_string(), "dimension mismatch: direction has length 1, expected 3");
/// # Ok::<(), adjoint::objective::ObjectiveError>(())
/// ```
#[derive(Clone)]
pub struct FnSecondOrder<D, F, G, H> {
    dim: usize,
    first_order: FnObjective<D, F, G>,
    hessian_vector_product: H,
}

impl<D, F, G, H> FnSecondOrder<D, F, G, H>
where
    F: Fn(&[f64], &D) -> f64,
    G: Fn(&[f64], &D, &mut [f64]) -> f64,
    H: Fn(&[f64], &D, &[f64], &mut [f64]),
{
    /// An objective of dimension `dim` evaluating `value(x, &data)`, `value_and_gradient(x, &data, grad)`
    /// and `hessian_vector_product(x, &data, v, out)`.
    ///
    /// ```
    /// use adjoint::optim::{FnSecondOrder, SecondOrderObjective};
    ///
    /// // Data, here a scale k: f = k (x₀ x₁)².
    /// let f = FnSecondOrder::new(2, 0.5,
    ///     |x, k: &f64| k * (x[0] * x[1]).powi(2),
    ///     |x, k, g| { g[0] = 2.0 * k * x[0] * x[1] * x[1]; g[1] = 2.0 * k * x[0] * x[0] * x[1]; k * (x[0] * x[1]).powi(2) },
    ///     |x, k, v, hv| {
    ///         let (a, b) = (x[0], x[1]);
    ///         hv[0] = 2.0 * k * (b * b * v[0] + 2.0 * a * b * v[1]);
    ///         hv[1] = 2.0 * k * (2.0 * a * b * v[0] + a * a * v[1]);
    ///     });
    /// let mut hv = [0.0; 2];
    /// f.hessian_vector_product(&[1.0, 2.0], &[0.0, 1.0], &mut hv)?;
    /// assert_eq!(hv, [4.0, 1.0]);
    /// # Ok::<(), adjoint::objective::ObjectiveError>(())
    /// ```
    pub fn new(dim: usize, data: D, value: F, value_and_gradient: G, hessian_vector_product: H) -> Self {
        Self { dim, first_order: FnObjective::new(dim, data, value, value_and_gradient), hessian_vector_product }
    }
}

impl<D, F, G, H> FnSecondOrder<D, F, G, H> {
    /// The data the functions are called with.
    ///
    /// ```
    /// use adjoint::optim::FnSecondOrder;
    ///
    /// let f = FnSecondOrder::new(1, vec![2.0], |x, c: &Vec<f64>| c[0] * x[0], |_, c: &Vec<f64>, g| { g[0] = c[0]; 0.0 },
    ///     |_, _: &Vec<f64>, _, _| {});
    /// assert_eq!(f.data(), &vec![2.0]);
    /// ```
    pub fn data(&self) -> &D {
        self.first_order.data()
    }
}

impl<D, F, G, H> Objective for FnSecondOrder<D, F, G, H>
where
    F: Fn(&[f64], &D) -> f64,
    G: Fn(&[f64], &D, &mut [f64]) -> f64,
{
    fn dim(&self) -> usize {
        self.dim
    }
    fn value(&self, x: &[f64]) -> Result<f64, ObjectiveError> {
        self.first_order.value(x)
    }
    fn value_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, ObjectiveError> {
        self.first_order.value_and_gradient(x, grad)
    }
}

impl<D, F, G, H> SecondOrderObjective for FnSecondOrder<D, F, G, H>
where
    F: Fn(&[f64], &D) -> f64,
    G: Fn(&[f64], &D, &mut [f64]) -> f64,
    H: Fn(&[f64], &D, &[f64], &mut [f64]),
{
    fn hessian_vector_product(&self, x: &[f64], v: &[f64], out: &mut [f64]) -> Result<(), ObjectiveError> {
        let dim = self.dim;
        check_len("x", dim, x.len())?;
        check_len("direction", dim, v.len())?;
        check_len("hessian-vector product buffer", dim, out.len())?;
        check_finite("x", x)?;
        check_finite("direction", v)?;
        out.fill(0.0);
        (self.hessian_vector_product)(x, self.data(), v, out);
        check_finite("hessian-vector product", out)
    }
}

impl<D: fmt::Debug, F, G, H> fmt::Debug for FnSecondOrder<D, F, G, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnSecondOrder").field("dim", &self.dim).field("data", self.data()).finish_non_exhaustive()
    }
}

/// A [`SecondOrderObjective`] over structured parameters (a `#[derive(Tangent)]` struct, nalgebra
/// matrices): a [`TangentObjective`] for value and gradient, plus a Hessian-vector product function on
/// the structured type, for a generated function `f_hvp_into`.
///
/// The product function is called as `hessian_vector_product(&p, &data, &v, &mut out)` with `p` and `v`
/// unflattened from the flat point and direction (allocated per call) and `out` a zero `P`; `out` is
/// flattened into the caller's buffer. Errors as [`SecondOrderObjective`] says.
///
/// ```
/// use adjoint::objective::{Objective, TangentObjective};
/// use adjoint::optim::{NewtonCg, SecondOrderObjective, TangentSecondOrder};
/// use adjoint::tangent::Cotangent;
/// use adjoint::{differentiable, Tangent};
/// use nalgebra::{DMatrix, DVector};
///
/// /// A linear model's parameters.
/// #[derive(Tangent, Clone, Debug)]
/// pub struct Linear {
///     pub w: DVector<f64>,
///     pub b: f64,
/// }
///
/// /// Inputs (rows) and targets; not differentiated.
/// pub struct Data {
///     pub x: DMatrix<f64>,
///     pub y: DVector<f64>,
/// }
///
/// /// Ridge regression with a softplus penalty on the bias.
/// #[differentiable(wrt(p))]
/// fn loss(p: &Linear, data: &Data) -> f64 {
///     let r = (&data.x * &p.w).add_scalar(p.b) - &data.y;
///     0.5 * r.norm_squared() + 0.05 * p.w.norm_squared() + (p.b.exp()).ln_1p()
/// }
///
/// let data = Data {
///     x: DMatrix::from_row_slice(4, 2, &[1.0, 0.5, -0.3, 2.0, 0.7, -1.0, 1.5, 0.2]),
///     y: DVector::from_vec(vec![1.0, 2.0, -0.5, 0.3]),
/// };
/// let p0 = Linear { w: DVector::zeros(2), b: 0.0 };
/// let first = TangentObjective::new(p0.clone(), data, loss, loss_grad_into);
/// let f = TangentSecondOrder::new(first, |p: &Linear, d: &Data, v: &Linear, hv: &mut Linear| {
///     let mut g = p.zero_like();
///     loss_hvp_into(p, v, d, &mut g, hv);
/// });
///
/// // Newton–CG on exact Hessian-vector products of the structured loss.
/// let x0 = f.first_order().flatten(&p0)?;
/// let report = NewtonCg::default().minimise(&f, &x0).unwrap();
/// assert!(report.converged());
/// let fitted: Linear = f.first_order().unflatten(&report.x)?;
/// let (_, g) = loss_grad(&fitted, f.first_order().data());
/// assert!(g.w.norm() < 1e-8 && g.b.abs() < 1e-8);
/// # Ok::<(), adjoint::objective::ObjectiveError>(())
/// ```
pub struct TangentSecondOrder<P, D, F, G, H> {
    first_order: TangentObjective<P, D, F, G>,
    hessian_vector_product: H,
}

impl<P, D, F, G, H> TangentSecondOrder<P, D, F, G, H>
where
    P: Tangent,
    F: Fn(&P, &D) -> f64,
    G: Fn(&P, &D, &mut P) -> f64,
    H: Fn(&P, &D, &P, &mut P),
{
    /// The objective `first_order` with the product `hessian_vector_product(&p, &data, &v, &mut out)`.
    ///
    /// ```
    /// use adjoint::objective::TangentObjective;
    /// use adjoint::optim::{SecondOrderObjective, TangentSecondOrder};
    ///
    /// // f(p) = p₀² p₁ over a `Vec<f64>` (itself a tangent space).
    /// let first = TangentObjective::new(vec![0.0; 2], (), |p: &Vec<f64>, _: &()| p[0] * p[0] * p[1],
    ///     |p: &Vec<f64>, _: &(), g: &mut Vec<f64>| { g[0] = 2.0 * p[0] * p[1]; g[1] = p[0] * p[0]; p[0] * p[0] * p[1] });
    /// let f = TangentSecondOrder::new(first, |p: &Vec<f64>, _: &(), v: &Vec<f64>, hv: &mut Vec<f64>| {
    ///     hv[0] = 2.0 * p[1] * v[0] + 2.0 * p[0] * v[1];
    ///     hv[1] = 2.0 * p[0] * v[0];
    /// });
    /// let mut hv = [0.0; 2];
    /// f.hessian_vector_product(&[1.0, 3.0], &[1.0, 1.0], &mut hv)?;
    /// assert_eq!(hv, [8.0, 2.0]);
    /// # Ok::<(), adjoint::objective::ObjectiveError>(())
    /// ```
    pub fn new(first_order: TangentObjective<P, D, F, G>, hessian_vector_product: H) -> Self {
        Self { first_order, hessian_vector_product }
    }

    /// The value-and-gradient objective (for `flatten`, `unflatten`, `data`).
    ///
    /// ```
    /// use adjoint::objective::{Objective, TangentObjective};
    /// use adjoint::optim::TangentSecondOrder;
    ///
    /// let first = TangentObjective::new(vec![0.0; 3], (), |p: &Vec<f64>, _: &()| p[0],
    ///     |_: &Vec<f64>, _: &(), g: &mut Vec<f64>| { g[0] = 1.0; 0.0 });
    /// let f = TangentSecondOrder::new(first, |_: &Vec<f64>, _: &(), _: &Vec<f64>, _: &mut Vec<f64>| {});
    /// assert_eq!(f.first_order().dim(), 3);
    /// ```
    pub fn first_order(&self) -> &TangentObjective<P, D, F, G> {
        &self.first_order
    }
}

impl<P, D, F, G, H> Objective for TangentSecondOrder<P, D, F, G, H>
where
    P: Tangent,
    F: Fn(&P, &D) -> f64,
    G: Fn(&P, &D, &mut P) -> f64,
{
    fn dim(&self) -> usize {
        self.first_order.dim()
    }
    fn value(&self, x: &[f64]) -> Result<f64, ObjectiveError> {
        self.first_order.value(x)
    }
    fn value_and_gradient(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, ObjectiveError> {
        self.first_order.value_and_gradient(x, grad)
    }
}

impl<P, D, F, G, H> SecondOrderObjective for TangentSecondOrder<P, D, F, G, H>
where
    P: Tangent,
    F: Fn(&P, &D) -> f64,
    G: Fn(&P, &D, &mut P) -> f64,
    H: Fn(&P, &D, &P, &mut P),
{
    fn hessian_vector_product(&self, x: &[f64], v: &[f64], out: &mut [f64]) -> Result<(), ObjectiveError> {
        let dim = self.dim();
        check_len("x", dim, x.len())?;
        check_len("direction", dim, v.len())?;
        check_len("hessian-vector product buffer", dim, out.len())?;
        check_finite("x", x)?;
        check_finite("direction", v)?;
        let (p, dir) = (self.first_order.unflatten(x)?, self.first_order.unflatten(v)?);
        let mut hv = self.first_order.template().zero_like();
        (self.hessian_vector_product)(&p, self.first_order.data(), &dir, &mut hv);
        let flat = self.first_order.flatten(&hv)?;
        out.copy_from_slice(&flat);
        check_finite("hessian-vector product", out)
    }
}

impl<P: fmt::Debug, D: fmt::Debug, F, G, H> fmt::Debug for TangentSecondOrder<P, D, F, G, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TangentSecondOrder").field("first_order", &self.first_order).finish_non_exhaustive()
    }
}
