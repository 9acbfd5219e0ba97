//! Dual numbers `a + b·ε` (ε² = 0): the scalar type on which the reverse sweep runs to produce exact
//! Hessian-vector products.
//!
//! Forward-over-reverse: evaluating the generated gradient code with every differentiated input
//! `x + ε·v` gives `∇f(x) + ε·H(x)·v`, because each operation of the reverse sweep propagates the
//! ε-part by its own derivative. The macro emits that gradient code once more, with `Dual` in place of the
//! float type (`__adjoint_vjp2_f`), and `f_hvp` seeds and splits it.
//!
//! ```
//! use adjoint::dual::Dual;
//!
//! let x = Dual::new(0.5_f64, 1.0); // x + ε
//! let y = (x * x).sin();           // sin(x²) + ε·2x·cos(x²)
//! assert_eq!(y.re, 0.25_f64.sin());
//! assert!((y.eps - 2.0 * 0.5 * 0.25_f64.cos()).abs() < 1e-15);
//! ```

use crate::rules::*;
use crate::tangent::{Accumulate, Cotangent, Placeholder};
use core::cmp::Ordering;
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// `re + eps·ε` with `ε² = 0`.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Dual<T> {
    /// The value.
    pub re: T,
    /// The derivative part.
    pub eps: T,
}

impl<T> Dual<T> {
    /// `re + eps·ε`.
    ///
    /// ```
    /// let d = adjoint::dual::Dual::new(2.0_f64, 1.0);
    /// assert_eq!((d * d).eps, 4.0);
    /// ```
    pub const fn new(re: T, eps: T) -> Self {
        Dual { re, eps }
    }
}

impl<T: Real> Dual<T> {
    /// A constant: `c + 0·ε`.
    ///
    /// ```
    /// let c = adjoint::dual::Dual::constant(3.0_f64);
    /// assert_eq!((c.re, c.eps), (3.0, 0.0));
    /// ```
    #[inline(always)]
    pub fn constant(c: T) -> Self {
        Dual { re: c, eps: T::ZERO }
    }
}

macro_rules! dual_for {
    ($t:ident) => {
        impl Dual<$t> {
            #[inline(always)]
            fn chain(self, z: $t, dz_dx: $t) -> Self {
                Dual { re: z, eps: dz_dx * self.eps }
            }
        }

        impl From<$t> for Dual<$t> {
            #[inline(always)]
            fn from(c: $t) -> Self {
                Dual::constant(c)
            }
        }

        impl PartialEq<$t> for Dual<$t> {
            fn eq(&self, other: &$t) -> bool {
                self.re == *other
            }
        }
        impl PartialOrd for Dual<$t> {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                self.re.partial_cmp(&other.re)
            }
        }
        impl PartialOrd<$t> for Dual<$t> {
            fn partial_cmp(&self, other: &$t) -> Option<Ordering> {
                self.re.partial_cmp(other)
            }
        }
        impl PartialEq<Dual<$t>> for $t {
            fn eq(&self, other: &Dual<$t>) -> bool {
                *self == other.re
            }
        }
        impl PartialOrd<Dual<$t>> for $t {
            fn partial_cmp(&self, other: &Dual<$t>) -> Option<Ordering> {
                self.partial_cmp(&other.re)
            }
        }

        impl Neg for Dual<$t> {
            type Output = Self;
            #[inline(always)]
            fn neg(self) -> Self {
                Dual { re: -self.re, eps: -self.eps }
            }
        }
        impl Add for Dual<$t> {
            type Output = Self;
            #[inline(always)]
            fn add(self, o: Self) -> Self {
                Dual { re: self.re + o.re, eps: self.eps + o.eps }
            }
        }
        impl Sub for Dual<$t> {
            type Output = Self;
            #[inline(always)]
            fn sub(self, o: Self) -> Self {
                Dual { re: self.re - o.re, eps: self.eps - o.eps }
            }
        }
        impl Mul for Dual<$t> {
            type Output = Self;
            #[inline(always)]
            fn mul(self, o: Self) -> Self {
                Dual { re: self.re * o.re, eps: self.eps * o.re + self.re * o.eps }
            }
        }
        impl Div for Dual<$t> {
            type Output = Self;
            #[inline(always)]
            fn div(self, o: Self) -> Self {
                let z = self.re / o.re;
                Dual { re: z, eps: (self.eps - z * o.eps) / o.re }
            }
        }
        // Mixed with constants on either side.
        impl Add<$t> for Dual<$t> {
            type Output = Self;
            #[inline(always)]
            fn add(self, c: $t) -> Self {
                Dual { re: self.re + c, eps: self.eps }
            }
        }
        impl Sub<$t> for Dual<$t> {
            type Output = Self;
            #[inline(always)]
            fn sub(self, c: $t) -> Self {
                Dual { re: self.re - c, eps: self.eps }
            }
        }
        impl Mul<$t> for Dual<$t> {
            type Output = Self;
            #[inline(always)]
            fn mul(self, c: $t) -> Self {
                Dual { re: self.re * c, eps: self.eps * c }
            }
        }
        impl Div<$t> for Dual<$t> {
            type Output = Self;
            #[inline(always)]
            fn div(self, c: $t) -> Self {
                Dual { re: self.re / c, eps: self.eps / c }
            }
        }
        impl Add<Dual<$t>> for $t {
            type Output = Dual<$t>;
            #[inline(always)]
            fn add(self, d: Dual<$t>) -> Dual<$t> {
                Dual { re: self + d.re, eps: d.eps }
            }
        }
        impl Sub<Dual<$t>> for $t {
            type Output = Dual<$t>;
            #[inline(always)]
            fn sub(self, d: Dual<$t>) -> Dual<$t> {
                Dual { re: self - d.re, eps: -d.eps }
            }
        }
        impl Mul<Dual<$t>> for $t {
            type Output = Dual<$t>;
            #[inline(always)]
            fn mul(self, d: Dual<$t>) -> Dual<$t> {
                Dual { re: self * d.re, eps: self * d.eps }
            }
        }
        impl Div<Dual<$t>> for $t {
            type Output = Dual<$t>;
            #[inline(always)]
            fn div(self, d: Dual<$t>) -> Dual<$t> {
                Dual::constant(self) / d
            }
        }
        impl AddAssign for Dual<$t> {
            #[inline(always)]
            fn add_assign(&mut self, o: Self) {
                *self = *self + o;
            }
        }
        impl SubAssign for Dual<$t> {
            #[inline(always)]
            fn sub_assign(&mut self, o: Self) {
                *self = *self - o;
            }
        }
        impl MulAssign for Dual<$t> {
            #[inline(always)]
            fn mul_assign(&mut self, o: Self) {
                *self = *self * o;
            }
        }
        impl DivAssign for Dual<$t> {
            #[inline(always)]
            fn div_assign(&mut self, o: Self) {
                *self = *self / o;
            }
        }
        impl AddAssign<$t> for Dual<$t> {
            #[inline(always)]
            fn add_assign(&mut self, c: $t) {
                self.re += c;
            }
        }
        impl SubAssign<$t> for Dual<$t> {
            #[inline(always)]
            fn sub_assign(&mut self, c: $t) {
                self.re -= c;
            }
        }
        impl MulAssign<$t> for Dual<$t> {
            #[inline(always)]
            fn mul_assign(&mut self, c: $t) {
                *self = *self * c;
            }
        }
        impl DivAssign<$t> for Dual<$t> {
            #[inline(always)]
            fn div_assign(&mut self, c: $t) {
                *self = *self / c;
            }
        }

        /// The float methods, each with the derivative from [`crate::rules`].
        impl Dual<$t> {
            dual_unary!($t: sin d_sin, cos d_cos, tan d_tan, asin d_asin, acos d_acos, atan d_atan, sinh d_sinh,
                cosh d_cosh, tanh d_tanh, asinh d_asinh, acosh d_acosh, atanh d_atanh, exp d_exp, exp2 d_exp2,
                exp_m1 d_exp_m1, ln d_ln, ln_1p d_ln_1p, log2 d_log2, log10 d_log10, sqrt d_sqrt, cbrt d_cbrt,
                recip d_recip, abs d_abs);

            /// `xⁿ`
            pub fn powi(self, n: i32) -> Self {
                self.chain(self.re.powi(n), d_powi(self.re, n))
            }
            /// `xʸ`
            pub fn powf(self, y: impl Into<Self>) -> Self {
                let y = y.into();
                let z = self.re.powf(y.re);
                Dual { re: z, eps: d_powf_x(self.re, y.re) * self.eps + d_powf_y(self.re, z) * y.eps }
            }
            /// `atan2(self, x)`
            pub fn atan2(self, x: impl Into<Self>) -> Self {
                let x = x.into();
                let z = self.re.atan2(x.re);
                Dual { re: z, eps: d_atan2_y(self.re, x.re) * self.eps + d_atan2_x(self.re, x.re) * x.eps }
            }
            /// `hypot(self, y)`
            pub fn hypot(self, y: impl Into<Self>) -> Self {
                let y = y.into();
                let z = self.re.hypot(y.re);
                Dual { re: z, eps: d_hypot_x(self.re, z) * self.eps + d_hypot_x(y.re, z) * y.eps }
            }
            /// `max(self, y)`, the derivative of the branch taken
            pub fn max(self, y: impl Into<Self>) -> Self {
                let y = y.into();
                if d_max_a(self.re, y.re) == 1.0 { self } else { y }
            }
            /// `min(self, y)`, the derivative of the branch taken
            pub fn min(self, y: impl Into<Self>) -> Self {
                let y = y.into();
                if d_min_a(self.re, y.re) == 1.0 { self } else { y }
            }
            /// `self·a + b`, fused like `f64::mul_add`
            pub fn mul_add(self, a: impl Into<Self>, b: impl Into<Self>) -> Self {
                let (a, b) = (a.into(), b.into());
                Dual { re: self.re.mul_add(a.re, b.re), eps: self.eps * a.re + self.re * a.eps + b.eps }
            }
            /// Piecewise constant: zero derivative.
            pub fn floor(self) -> Self {
                Dual::constant(self.re.floor())
            }
            /// Piecewise constant: zero derivative.
            pub fn ceil(self) -> Self {
                Dual::constant(self.re.ceil())
            }
            /// Piecewise constant: zero derivative.
            pub fn round(self) -> Self {
                Dual::constant(self.re.round())
            }
            /// Piecewise constant: zero derivative.
            pub fn trunc(self) -> Self {
                Dual::constant(self.re.trunc())
            }
            /// Piecewise constant: zero derivative.
            pub fn signum(self) -> Self {
                Dual::constant(self.re.signum())
            }
            /// Whether the value is NaN.
            pub fn is_nan(self) -> bool {
                self.re.is_nan()
            }
            /// Whether the value is finite.
            pub fn is_finite(self) -> bool {
                self.re.is_finite()
            }
        }

        impl Real for Dual<$t> {
            const ZERO: Self = Dual { re: 0.0, eps: 0.0 };
            const ONE: Self = Dual { re: 1.0, eps: 0.0 };
            fn from_f64(x: f64) -> Self {
                Dual::constant(x as $t)
            }
            fn to_f64(self) -> f64 {
                self.re as f64
            }
            fn __sqrt(self) -> Self {
                self.sqrt()
            }
            fn __sin(self) -> Self {
                self.sin()
            }
            fn __cos(self) -> Self {
                self.cos()
            }
            fn __cosh(self) -> Self {
                self.cosh()
            }
            fn __sinh(self) -> Self {
                self.sinh()
            }
            fn __exp(self) -> Self {
                self.exp()
            }
            fn __ln(self) -> Self {
                self.ln()
            }
            fn __powi(self, n: i32) -> Self {
                self.powi(n)
            }
            fn __powf(self, y: Self) -> Self {
                self.powf(y)
            }
            fn __hypot(self, y: Self) -> Self {
                self.hypot(y)
            }
            fn __is_nan(self) -> bool {
                self.re.is_nan()
            }
        }

        impl Accumulate for Dual<$t> {
            #[inline(always)]
            fn accumulate(&mut self, other: &Self) {
                *self += *other;
            }
            #[inline(always)]
            fn subtract(&mut self, other: &Self) {
                *self -= *other;
            }
            #[inline(always)]
            fn set_zero(&mut self) {
                *self = Dual::constant(0.0);
            }
        }
        impl Cotangent for Dual<$t> {
            #[inline(always)]
            fn zero_like(&self) -> Self {
                Dual::constant(0.0)
            }
            #[inline(always)]
            fn accumulator_zero(&self) -> Self {
                Dual::new(-0.0, -0.0)
            }
        }
        impl Placeholder for Dual<$t> {
            fn placeholder() -> Self {
                Dual::constant(0.0)
            }
        }
        impl crate::linalg::MulRule<Dual<$t>> for Dual<$t> {
            type Output = Self;
            fn mul(a: &Self, b: &Self) -> Self {
                *a * *b
            }
            fn mul_vjp_a(_a: &Self, b: &Self, z_bar: &Self, a_bar: &mut Self) {
                *a_bar += *z_bar * *b;
            }
            fn mul_vjp_b(a: &Self, _b: &Self, z_bar: &Self, b_bar: &mut Self) {
                *b_bar += *a * *z_bar;
            }
        }
        impl crate::linalg::DivRule<Dual<$t>> for Dual<$t> {
            type Output = Self;
            fn div(a: &Self, b: &Self) -> Self {
                *a / *b
            }
            fn div_vjp_a(_a: &Self, b: &Self, z_bar: &Self, a_bar: &mut Self) {
                *a_bar += *z_bar / *b;
            }
            fn div_vjp_b(a: &Self, b: &Self, z_bar: &Self, b_bar: &mut Self) {
                *b_bar -= *z_bar * *a / (*b * *b);
            }
        }
    };
}

macro_rules! dual_unary {
    ($t:ident: $($name:ident $d:ident),* $(,)?) => {$(
        #[doc = concat!("`", stringify!($name), "`, with its derivative")]
        #[inline(always)]
        pub fn $name(self) -> Self {
            let z = self.re.$name();
            self.chain(z, $d(self.re, z))
        }
    )*};
}

dual_for!(f32);
dual_for!(f64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_methods_match_derivatives() {
        let x = Dual::new(0.7_f64, 1.0);
        let cases: [(Dual<f64>, f64); 6] = [
            (x * x * x, 3.0 * 0.49),
            (x.exp() / x, 0.7_f64.exp() * (0.7 - 1.0) / 0.49),
            (x.powf(2.5), 2.5 * 0.7_f64.powf(1.5)),
            (x.atan2(2.0), 2.0 / (4.0 + 0.49)),
            (2.0 - x.tanh(), -(1.0 - 0.7_f64.tanh().powi(2))),
            (x.max(0.1) + x.min(0.1), 1.0),
        ];
        for (d, want) in cases {
            assert!((d.eps - want).abs() < 1e-14, "{d:?} vs {want}");
        }
    }
}

/// Parameters that can be lifted to dual numbers along a direction (`x + ε·v`): how `f_hvp` seeds the
/// reverse sweep on duals.
pub trait Dualize {
    /// The parameter with dual components.
    type Dual;
    /// `x + ε·v`, component by component.
    fn dualize(&self, v: &Self) -> Self::Dual;
}

/// Dual values that split into their value and ε parts: a gradient computed on duals splits into
/// `(∇f, H·v)`.
pub trait SplitDual {
    /// The type of each part.
    type Plain;
    /// The caller's buffer type the parts are written into (`[f64]` for vectors).
    type Buffer: ?Sized;
    /// `(value parts, ε parts)`.
    fn split_dual(&self) -> (Self::Plain, Self::Plain);
    /// Writes the value parts into `re` and the ε parts into `eps` (lengths must match).
    fn split_into(&self, re: &mut Self::Buffer, eps: &mut Self::Buffer);
}

macro_rules! dualize_for {
    ($($t:ident),*) => {$(
        impl Dualize for $t {
            type Dual = Dual<$t>;
            fn dualize(&self, v: &Self) -> Dual<$t> {
                Dual::new(*self, *v)
            }
        }
        impl Dualize for [$t] {
            type Dual = Vec<Dual<$t>>;
            fn dualize(&self, v: &Self) -> Vec<Dual<$t>> {
                assert_eq!(self.len(), v.len(), "adjoint: the direction has length {}, the parameter {}", v.len(), self.len());
                self.iter().zip(v).map(|(x, v)| Dual::new(*x, *v)).collect()
            }
        }
        impl Dualize for Vec<$t> {
            type Dual = Vec<Dual<$t>>;
            fn dualize(&self, v: &Self) -> Vec<Dual<$t>> {
                self.as_slice().dualize(v.as_slice())
            }
        }
        impl<const N: usize> Dualize for [$t; N] {
            type Dual = [Dual<$t>; N];
            fn dualize(&self, v: &Self) -> [Dual<$t>; N] {
                core::array::from_fn(|i| Dual::new(self[i], v[i]))
            }
        }
        impl SplitDual for Dual<$t> {
            type Plain = $t;
            type Buffer = $t;
            fn split_dual(&self) -> ($t, $t) {
                (self.re, self.eps)
            }
            fn split_into(&self, re: &mut $t, eps: &mut $t) {
                (*re, *eps) = (self.re, self.eps);
            }
        }
        impl SplitDual for Vec<Dual<$t>> {
            type Plain = Vec<$t>;
            type Buffer = [$t];
            fn split_dual(&self) -> (Vec<$t>, Vec<$t>) {
                (self.iter().map(|d| d.re).collect(), self.iter().map(|d| d.eps).collect())
            }
            fn split_into(&self, re: &mut [$t], eps: &mut [$t]) {
                crate::tangent::check_len("gradient", re.len(), self.len());
                crate::tangent::check_len("Hessian-vector product", eps.len(), self.len());
                for ((d, r), e) in self.iter().zip(re).zip(eps) {
                    (*r, *e) = (d.re, d.eps);
                }
            }
        }
        impl<const N: usize> SplitDual for [Dual<$t>; N] {
            type Plain = [$t; N];
            type Buffer = [$t; N];
            fn split_dual(&self) -> ([$t; N], [$t; N]) {
                (core::array::from_fn(|i| self[i].re), core::array::from_fn(|i| self[i].eps))
            }
            fn split_into(&self, re: &mut [$t; N], eps: &mut [$t; N]) {
                for i in 0..N {
                    (re[i], eps[i]) = (self[i].re, self[i].eps);
                }
            }
        }
    )*};
}
dualize_for!(f32, f64);

// Matrices of duals: nalgebra needs `Zero` and `One` to multiply them.
macro_rules! zero_one_for {
    ($($t:ident),*) => {$(
        impl num_traits::Zero for Dual<$t> {
            #[inline(always)]
            fn zero() -> Self {
                Dual::constant(0.0)
            }
            #[inline(always)]
            fn is_zero(&self) -> bool {
                self.re == 0.0 && self.eps == 0.0
            }
        }
        impl num_traits::One for Dual<$t> {
            #[inline(always)]
            fn one() -> Self {
                Dual::constant(1.0)
            }
        }
    )*};
}
zero_one_for!(f32, f64);

impl<T, R, C> Dualize for nalgebra::OMatrix<T, R, C>
where
    T: crate::linalg::LinalgScalar,
    Dual<T>: crate::linalg::LinalgScalar,
    R: nalgebra::Dim,
    C: nalgebra::Dim,
    nalgebra::DefaultAllocator: nalgebra::allocator::Allocator<R, C>,
{
    type Dual = nalgebra::OMatrix<Dual<T>, R, C>;
    fn dualize(&self, v: &Self) -> Self::Dual {
        assert_eq!(self.shape(), v.shape(), "adjoint: the direction's shape differs from the parameter's");
        self.zip_map(v, Dual::new)
    }
}

impl<T, R, C> SplitDual for nalgebra::OMatrix<Dual<T>, R, C>
where
    T: crate::linalg::LinalgScalar,
    Dual<T>: crate::linalg::LinalgScalar,
    R: nalgebra::Dim,
    C: nalgebra::Dim,
    nalgebra::DefaultAllocator: nalgebra::allocator::Allocator<R, C>,
{
    type Plain = nalgebra::OMatrix<T, R, C>;
    type Buffer = nalgebra::OMatrix<T, R, C>;
    fn split_dual(&self) -> (Self::Plain, Self::Plain) {
        (self.map(|d| d.re), self.map(|d| d.eps))
    }
    fn split_into(&self, re: &mut Self::Plain, eps: &mut Self::Plain) {
        assert_eq!(re.shape(), self.shape(), "adjoint: the gradient buffer's shape differs from the parameter's");
        assert_eq!(
            eps.shape(),
            self.shape(),
            "adjoint: the Hessian-vector buffer's shape differs from the parameter's"
        );
        for ((d, r), e) in self.as_slice().iter().zip(re.as_mut_slice()).zip(eps.as_mut_slice()) {
            (*r, *e) = (d.re, d.eps);
        }
    }
}

/// The value part of a dual quantity, with the float types of the primal code: `Dual<f64>` → `f64`,
/// `Vec<Dual<f64>>` → `Vec<f64>`, `DVector<Dual<f64>>` → `DVector<f64>`, a `#[derive(Tangent)]` struct's dual
/// counterpart → the struct. Second-order code evaluates constant expressions (conditions, casts,
/// roundings, `no_grad`) on value parts, as the primal does.
///
/// ```
/// use adjoint::dual::{value_part, Dual};
/// assert_eq!(value_part(&Dual::new(2.0_f64, 1.0)), 2.0);
/// assert_eq!(value_part(&vec![Dual::new(1.0_f64, 5.0)]), vec![1.0]);
/// ```
pub trait ValuePart {
    /// The primal type.
    type Value;
    /// The value part.
    fn value_part(&self) -> Self::Value;
}

macro_rules! value_part_for {
    ($($t:ident),*) => {$(
        impl ValuePart for Dual<$t> {
            type Value = $t;
            #[inline(always)]
            fn value_part(&self) -> $t {
                self.re
            }
        }
        impl ValuePart for $t {
            type Value = $t;
            #[inline(always)]
            fn value_part(&self) -> $t {
                *self
            }
        }
        impl<R: nalgebra::Dim, C: nalgebra::Dim> ValuePart for nalgebra::OMatrix<Dual<$t>, R, C>
        where
            nalgebra::DefaultAllocator: nalgebra::allocator::Allocator<R, C>,
        {
            type Value = nalgebra::OMatrix<$t, R, C>;
            fn value_part(&self) -> Self::Value {
                self.map(|d| d.re)
            }
        }
    )*};
}
value_part_for!(f32, f64);

impl<T: ValuePart> ValuePart for [T] {
    type Value = Vec<T::Value>;
    fn value_part(&self) -> Self::Value {
        self.iter().map(ValuePart::value_part).collect()
    }
}
impl<T: ValuePart> ValuePart for Vec<T> {
    type Value = Vec<T::Value>;
    fn value_part(&self) -> Self::Value {
        self.as_slice().value_part()
    }
}
impl<T: ValuePart, const N: usize> ValuePart for [T; N] {
    type Value = [T::Value; N];
    fn value_part(&self) -> Self::Value {
        core::array::from_fn(|i| self[i].value_part())
    }
}
impl<T: ValuePart + ?Sized> ValuePart for &T {
    type Value = T::Value;
    #[inline(always)]
    fn value_part(&self) -> Self::Value {
        (**self).value_part()
    }
}
macro_rules! value_part_tuple {
    ($(($($t:ident $i:tt),+))*) => {$(
        impl<$($t: ValuePart),+> ValuePart for ($($t,)+) {
            type Value = ($($t::Value,)+);
            fn value_part(&self) -> Self::Value {
                ($(self.$i.value_part(),)+)
            }
        }
    )*};
}
value_part_tuple! { (A 0) (A 0, B 1) (A 0, B 1, C 2) (A 0, B 1, C 2, D 3) }

/// See [`ValuePart`].
#[inline(always)]
pub fn value_part<V: ValuePart + ?Sized>(v: &V) -> V::Value {
    v.value_part()
}

/// `x + ε·v` (see [`Dualize`]).
#[inline]
pub fn dualize<P: Dualize + ?Sized>(x: &P, v: &P) -> P::Dual {
    x.dualize(v)
}

/// Writes value and ε parts into caller buffers (see [`SplitDual`]).
#[inline]
pub fn split_dual_into<D: SplitDual>(d: &D, re: &mut D::Buffer, eps: &mut D::Buffer) {
    d.split_into(re, eps);
}

/// `(value parts, ε parts)` (see [`SplitDual`]).
#[inline]
pub fn split_dual<D: SplitDual>(d: &D) -> (D::Plain, D::Plain) {
    d.split_dual()
}

/// What a second-order entry point does when the function (or one it calls) has no second-order code:
/// custom derivative rules, nalgebra or struct parameters. Reached only if such a Hessian-vector product
/// is actually requested.
#[cold]
pub fn no_second_order(function: &str) -> ! {
    panic!(
        "adjoint: `{function}` has no second-order derivative code: it uses a construct f_hvp does not support yet \
         (custom rules, nalgebra or struct parameters, map closures, f32/f64 casts or roundings of differentiated \
         values)"
    )
}

/// Lifts an argument of a call into the callee's dual code: constants become `c + 0·ε`, duals and
/// everything else pass through. The target type comes from the callee's signature.
pub trait Lift<Target> {
    /// The argument as the callee's dual code takes it.
    fn lift(self) -> Target;
}
impl<T> Lift<T> for T {
    #[inline(always)]
    fn lift(self) -> T {
        self
    }
}
impl Lift<Dual<f64>> for f64 {
    #[inline(always)]
    fn lift(self) -> Dual<f64> {
        Dual::constant(self)
    }
}
impl Lift<Dual<f32>> for f32 {
    #[inline(always)]
    fn lift(self) -> Dual<f32> {
        Dual::constant(self)
    }
}

macro_rules! lift_owned_for {
    ($($t:ident),*) => {$(
        impl Lift<Vec<Dual<$t>>> for Vec<$t> {
            fn lift(self) -> Vec<Dual<$t>> {
                self.into_iter().map(Dual::constant).collect()
            }
        }
        impl<const N: usize> Lift<[Dual<$t>; N]> for [$t; N] {
            fn lift(self) -> [Dual<$t>; N] {
                self.map(Dual::constant)
            }
        }
        impl<R: nalgebra::Dim, C: nalgebra::Dim> Lift<nalgebra::OMatrix<Dual<$t>, R, C>> for nalgebra::OMatrix<$t, R, C>
        where
            nalgebra::DefaultAllocator: nalgebra::allocator::Allocator<R, C>,
        {
            fn lift(self) -> nalgebra::OMatrix<Dual<$t>, R, C> {
                self.map(Dual::constant)
            }
        }
    )*};
}
lift_owned_for!(f32, f64);

/// A borrowed argument as the callee's dual code takes it: itself when the callee keeps that parameter
/// constant (`&[f64]` for `&[f64]`, or with the coercions of a call, `&Vec<f64>` for `&[f64]`), or a dual
/// copy made in `slot` when the callee differentiates it (`&[f64]` for `&[Dual<f64>]`). The target type
/// comes from the callee's signature.
///
/// ```
/// use adjoint::dual::{lift_ref, Dual};
/// let data = vec![1.0_f64, 2.0];
/// let mut slot = None;
/// let same: &[f64] = lift_ref(&data, &mut slot);
/// assert_eq!(same, &[1.0, 2.0]);
/// let mut slot = None;
/// let lifted: &[Dual<f64>] = lift_ref(&data, &mut slot);
/// assert_eq!(lifted[1], Dual::constant(2.0));
/// ```
pub trait LiftRef<Target: ?Sized> {
    /// What `slot` holds: `()` when the argument is passed as it is.
    type Owned;
    /// The argument as the callee takes it, borrowed from `self` or from `slot`.
    fn lift_ref<'a>(&'a self, slot: &'a mut Option<Self::Owned>) -> &'a Target;
}
impl<T: ?Sized> LiftRef<T> for T {
    type Owned = ();
    #[inline(always)]
    fn lift_ref<'a>(&'a self, _: &'a mut Option<()>) -> &'a T {
        self
    }
}
macro_rules! lift_ref_for {
    ($($t:ident),*) => {$(
        impl LiftRef<[$t]> for Vec<$t> {
            type Owned = ();
            #[inline(always)]
            fn lift_ref<'a>(&'a self, _: &'a mut Option<()>) -> &'a [$t] {
                self
            }
        }
        impl<const N: usize> LiftRef<[$t]> for [$t; N] {
            type Owned = ();
            #[inline(always)]
            fn lift_ref<'a>(&'a self, _: &'a mut Option<()>) -> &'a [$t] {
                self
            }
        }
        impl LiftRef<[Dual<$t>]> for [$t] {
            type Owned = Vec<Dual<$t>>;
            fn lift_ref<'a>(&'a self, slot: &'a mut Option<Vec<Dual<$t>>>) -> &'a [Dual<$t>] {
                slot.insert(self.iter().map(|x| Dual::constant(*x)).collect())
            }
        }
        impl LiftRef<[Dual<$t>]> for Vec<$t> {
            type Owned = Vec<Dual<$t>>;
            fn lift_ref<'a>(&'a self, slot: &'a mut Option<Vec<Dual<$t>>>) -> &'a [Dual<$t>] {
                self.as_slice().lift_ref(slot)
            }
        }
        impl LiftRef<Vec<Dual<$t>>> for Vec<$t> {
            type Owned = Vec<Dual<$t>>;
            fn lift_ref<'a>(&'a self, slot: &'a mut Option<Vec<Dual<$t>>>) -> &'a Vec<Dual<$t>> {
                slot.insert(self.iter().map(|x| Dual::constant(*x)).collect())
            }
        }
        impl<const N: usize> LiftRef<[Dual<$t>; N]> for [$t; N] {
            type Owned = [Dual<$t>; N];
            fn lift_ref<'a>(&'a self, slot: &'a mut Option<[Dual<$t>; N]>) -> &'a [Dual<$t>; N] {
                slot.insert(self.map(Dual::constant))
            }
        }
        impl<R: nalgebra::Dim, C: nalgebra::Dim> LiftRef<nalgebra::OMatrix<Dual<$t>, R, C>> for nalgebra::OMatrix<$t, R, C>
        where
            nalgebra::DefaultAllocator: nalgebra::allocator::Allocator<R, C>,
        {
            type Owned = nalgebra::OMatrix<Dual<$t>, R, C>;
            fn lift_ref<'a>(
                &'a self,
                slot: &'a mut Option<Self::Owned>,
            ) -> &'a nalgebra::OMatrix<Dual<$t>, R, C> {
                slot.insert(self.map(Dual::constant))
            }
        }
    )*};
}
lift_ref_for!(f32, f64);

/// See [`LiftRef`].
#[inline(always)]
pub fn lift_ref<'a, A: LiftRef<T> + ?Sized, T: ?Sized>(a: &'a A, slot: &'a mut Option<A::Owned>) -> &'a T {
    a.lift_ref(slot)
}

/// See [`Lift`].
#[inline(always)]
pub fn lift<A: Lift<B>, B>(a: A) -> B {
    a.lift()
}

/// Constants lifted to duals of scalar type `S`, structurally: `c ↦ c + 0·ε` for scalars, elementwise for
/// arrays, vectors and tuples. How dual code initialises a differentiated variable from constants
/// (`let mut a = [0.0; 3]`); naming `S` lets unsuffixed float literals be inferred.
pub trait Constant<S> {
    /// The dual counterpart.
    type Dual;
    /// The constant with zero ε-parts.
    fn constant(self) -> Self::Dual;
}
macro_rules! constant_for {
    ($($t:ident),*) => {$(
        impl Constant<$t> for $t {
            type Dual = Dual<$t>;
            fn constant(self) -> Dual<$t> {
                Dual::constant(self)
            }
        }
        impl Constant<$t> for Dual<$t> {
            type Dual = Dual<$t>;
            fn constant(self) -> Dual<$t> {
                Dual::constant(self.re)
            }
        }
    )*};
}
constant_for!(f32, f64);
macro_rules! constant_matrix_for {
    ($($t:ident),*) => {$(
        impl<R: nalgebra::Dim, C: nalgebra::Dim> Constant<$t> for nalgebra::OMatrix<$t, R, C>
        where
            nalgebra::DefaultAllocator: nalgebra::allocator::Allocator<R, C>,
        {
            type Dual = nalgebra::OMatrix<Dual<$t>, R, C>;
            fn constant(self) -> Self::Dual {
                self.map(Dual::constant)
            }
        }
    )*};
}
constant_matrix_for!(f32, f64);
impl<S, T: Constant<S>> Constant<S> for Vec<T> {
    type Dual = Vec<T::Dual>;
    fn constant(self) -> Self::Dual {
        self.into_iter().map(Constant::constant).collect()
    }
}
impl<S, T: Constant<S>, const N: usize> Constant<S> for [T; N] {
    type Dual = [T::Dual; N];
    fn constant(self) -> Self::Dual {
        self.map(Constant::constant)
    }
}
macro_rules! constant_tuple {
    ($(($($t:ident $i:tt),+))*) => {$(
        impl<S, $($t: Constant<S>),+> Constant<S> for ($($t,)+) {
            type Dual = ($($t::Dual,)+);
            fn constant(self) -> Self::Dual {
                ($(self.$i.constant(),)+)
            }
        }
    )*};
}
constant_tuple! { (A 0) (A 0, B 1) (A 0, B 1, C 2) (A 0, B 1, C 2, D 3) }

/// See [`Constant`]: `constant::<f64, _>([0.0; 3])` is `[Dual::constant(0.0); 3]`.
#[inline(always)]
pub fn constant<S, C: Constant<S>>(c: C) -> C::Dual {
    c.constant()
}

// Duals behave like the floats they stand for, references included (`&a + &b`, `s += &t`, `&a * 0.5`),
// because the code generated for values of unknown type borrows its operands.
macro_rules! dual_ref_ops {
    ($t:ident: $($tr:ident $m:ident $atr:ident $am:ident),*) => {$(
        impl<'a> core::ops::$tr<&'a Dual<$t>> for &'a Dual<$t> {
            type Output = Dual<$t>;
            #[inline(always)]
            fn $m(self, o: &'a Dual<$t>) -> Dual<$t> { core::ops::$tr::$m(*self, *o) }
        }
        impl<'a> core::ops::$tr<Dual<$t>> for &'a Dual<$t> {
            type Output = Dual<$t>;
            #[inline(always)]
            fn $m(self, o: Dual<$t>) -> Dual<$t> { core::ops::$tr::$m(*self, o) }
        }
        impl<'a> core::ops::$tr<&'a Dual<$t>> for Dual<$t> {
            type Output = Dual<$t>;
            #[inline(always)]
            fn $m(self, o: &'a Dual<$t>) -> Dual<$t> { core::ops::$tr::$m(self, *o) }
        }
        impl<'a> core::ops::$tr<&'a $t> for &'a Dual<$t> {
            type Output = Dual<$t>;
            #[inline(always)]
            fn $m(self, o: &'a $t) -> Dual<$t> { core::ops::$tr::$m(*self, *o) }
        }
        impl<'a> core::ops::$tr<&'a Dual<$t>> for &'a $t {
            type Output = Dual<$t>;
            #[inline(always)]
            fn $m(self, o: &'a Dual<$t>) -> Dual<$t> { core::ops::$tr::$m(*self, *o) }
        }
        impl<'a> core::ops::$atr<&'a Dual<$t>> for Dual<$t> {
            #[inline(always)]
            fn $am(&mut self, o: &'a Dual<$t>) { core::ops::$atr::$am(self, *o) }
        }
        impl<'a> core::ops::$atr<&'a $t> for Dual<$t> {
            #[inline(always)]
            fn $am(&mut self, o: &'a $t) { core::ops::$atr::$am(self, *o) }
        }
    )*
        impl<'a> Neg for &'a Dual<$t> {
            type Output = Dual<$t>;
            #[inline(always)]
            fn neg(self) -> Dual<$t> { -*self }
        }
        impl crate::linalg::MulRule<$t> for Dual<$t> {
            type Output = Dual<$t>;
            fn mul(a: &Self, b: &$t) -> Self { *a * *b }
            fn mul_vjp_a(_a: &Self, b: &$t, z_bar: &Self, a_bar: &mut Self) { *a_bar += *z_bar * *b; }
            fn mul_vjp_b(a: &Self, _b: &$t, z_bar: &Self, b_bar: &mut $t) { *b_bar += (*a * *z_bar).re; }
        }
        impl crate::linalg::MulRule<Dual<$t>> for $t {
            type Output = Dual<$t>;
            fn mul(a: &$t, b: &Dual<$t>) -> Dual<$t> { *a * *b }
            fn mul_vjp_a(_a: &$t, b: &Dual<$t>, z_bar: &Dual<$t>, a_bar: &mut $t) { *a_bar += (*z_bar * *b).re; }
            fn mul_vjp_b(a: &$t, _b: &Dual<$t>, z_bar: &Dual<$t>, b_bar: &mut Dual<$t>) { *b_bar += *a * *z_bar; }
        }
        impl crate::linalg::DivRule<$t> for Dual<$t> {
            type Output = Dual<$t>;
            fn div(a: &Self, b: &$t) -> Self { *a / *b }
            fn div_vjp_a(_a: &Self, b: &$t, z_bar: &Self, a_bar: &mut Self) { *a_bar += *z_bar / *b; }
            fn div_vjp_b(a: &Self, b: &$t, z_bar: &Self, b_bar: &mut $t) { *b_bar -= (*z_bar * *a / (*b * *b)).re; }
        }
        impl crate::linalg::DivRule<Dual<$t>> for $t {
            type Output = Dual<$t>;
            fn div(a: &$t, b: &Dual<$t>) -> Dual<$t> { *a / *b }
            fn div_vjp_a(_a: &$t, b: &Dual<$t>, z_bar: &Dual<$t>, a_bar: &mut $t) { *a_bar += (*z_bar / *b).re; }
            fn div_vjp_b(a: &$t, b: &Dual<$t>, z_bar: &Dual<$t>, b_bar: &mut Dual<$t>) { *b_bar -= *z_bar * *a / (*b * *b); }
        }
    };
}
dual_ref_ops!(f32: Add add AddAssign add_assign, Sub sub SubAssign sub_assign, Mul mul MulAssign mul_assign, Div div DivAssign div_assign);
dual_ref_ops!(f64: Add add AddAssign add_assign, Sub sub SubAssign sub_assign, Mul mul MulAssign mul_assign, Div div DivAssign div_assign);

/// Dual vectors reused across calls of `f_hvp_into`, one pool per thread and float type: a large
/// Hessian-vector product would otherwise map fresh pages for its two dual vectors on every call, which
/// costs more than the product itself at n = 10⁵.
pub trait DualPool: Sized + Copy + 'static {
    #[doc(hidden)]
    fn with_pool<R>(f: impl FnOnce(&mut Vec<Vec<Dual<Self>>>) -> R) -> R;
}

macro_rules! dual_pool_for {
    ($($t:ident $pool:ident),*) => {$(
        std::thread_local! {
            static $pool: core::cell::RefCell<Vec<Vec<Dual<$t>>>> = const { core::cell::RefCell::new(Vec::new()) };
        }
        impl DualPool for $t {
            fn with_pool<R>(f: impl FnOnce(&mut Vec<Vec<Dual<Self>>>) -> R) -> R {
                $pool.with(|p| f(&mut p.borrow_mut()))
            }
        }
    )*};
}
dual_pool_for!(f32 POOL_F32, f64 POOL_F64);

/// `x + ε·v` for a slice, in a vector taken from this thread's pool (see [`DualPool`]).
pub fn dualize_pooled<T: DualPool + Real>(x: &[T], v: &[T]) -> Vec<Dual<T>> {
    crate::tangent::check_len("direction", v.len(), x.len());
    let mut out = T::with_pool(|p| p.pop()).unwrap_or_default();
    out.clear();
    out.extend(x.iter().zip(v).map(|(x, v)| Dual::new(*x, *v)));
    out
}

/// A zero dual cotangent of length `n` from this thread's pool (see [`DualPool`]).
pub fn dual_zeros_pooled<T: DualPool + Real>(n: usize) -> Vec<Dual<T>> {
    let mut out = T::with_pool(|p| p.pop()).unwrap_or_default();
    out.clear();
    out.resize(n, Dual::new(-T::ZERO, -T::ZERO));
    out
}

/// Returns a dual vector to this thread's pool (see [`DualPool`]).
pub fn recycle<T: DualPool>(v: Vec<Dual<T>>) {
    T::with_pool(|p| {
        if p.len() < 8 {
            p.push(v);
        }
    });
}
