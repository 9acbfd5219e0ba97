//! Tangents and cotangents: the vector spaces derivatives live in.
//!
//! The tangent of a value (what forward mode carries) and its cotangent (what reverse mode
//! accumulates) have the value's own type: `f64` for `f64`, `Vec<f64>` for `&[f64]` and `Vec<f64>`,
//! `[f64; N]` for arrays, tuples component-wise. Generated code only needs three things from such a
//! space: a zero shaped like a value, in-place accumulation, and resetting to zero. [`Cotangent`]
//! provides them; the free functions below are the spellings the macro emits.

/// In-place vector-space operations on a tangent or cotangent, sized or not (`[f64]` included).
///
/// ```
/// use adjoint::tangent::Accumulate;
///
/// let mut g = [1.0, 2.0];
/// g[..].accumulate(&[0.5, 0.25]);
/// assert_eq!(g, [1.5, 2.25]);
/// ```
pub trait Accumulate {
    /// `self += other`, elementwise. Shapes must agree.
    fn accumulate(&mut self, other: &Self);
    /// `self -= other`, elementwise. Shapes must agree.
    fn subtract(&mut self, other: &Self);
    /// Sets every component to zero, keeping the shape.
    fn set_zero(&mut self);
}

/// A vector space of tangents or cotangents shaped like a primal value.
///
/// ```
/// use adjoint::{tangent::Accumulate, Cotangent};
///
/// let mut g = vec![1.0, 2.0].zero_like();
/// g.accumulate(&vec![0.5, 0.25]);
/// assert_eq!(g, vec![0.5, 0.25]);
/// ```
pub trait Cotangent: Accumulate + Sized {
    /// The zero of the space, shaped like `self` (same length for vectors).
    fn zero_like(&self) -> Self;

    /// The zero an accumulator starts from: [`zero_like`](Cotangent::zero_like), except that floats
    /// start at `−0.0`, the exact additive identity (`−0.0 + y = y` for every `y`, whereas
    /// `0.0 + (−0.0) = 0.0`). The compiler can then drop the first addition into a fresh cotangent, which
    /// it may not do for `0.0 + y`; in Rosenbrock's reverse sweep this halves the time.
    fn accumulator_zero(&self) -> Self {
        self.zero_like()
    }
}

macro_rules! scalar_cotangent {
    ($($t:ty),*) => {$(
        impl Cotangent for $t {
            #[inline(always)]
            fn zero_like(&self) -> Self {
                0.0
            }
            #[inline(always)]
            fn accumulator_zero(&self) -> Self {
                -0.0
            }
        }
        impl Accumulate for $t {
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
                *self = 0.0;
            }
        }
    )*};
}
scalar_cotangent!(f32, f64);

impl<T: Accumulate> Accumulate for [T] {
    #[inline]
    fn accumulate(&mut self, other: &Self) {
        assert_eq!(self.len(), other.len(), "adjoint: cotangent length mismatch");
        for (a, b) in self.iter_mut().zip(other) {
            a.accumulate(b);
        }
    }
    #[inline]
    fn subtract(&mut self, other: &Self) {
        assert_eq!(self.len(), other.len(), "adjoint: cotangent length mismatch");
        for (a, b) in self.iter_mut().zip(other) {
            a.subtract(b);
        }
    }
    #[inline]
    fn set_zero(&mut self) {
        for a in self {
            a.set_zero();
        }
    }
}

impl<T: Cotangent> Cotangent for Vec<T> {
    #[inline]
    fn zero_like(&self) -> Self {
        self.iter().map(Cotangent::zero_like).collect()
    }
}
impl<T: Accumulate> Accumulate for Vec<T> {
    #[inline]
    fn accumulate(&mut self, other: &Self) {
        self.as_mut_slice().accumulate(other);
    }
    #[inline]
    fn subtract(&mut self, other: &Self) {
        self.as_mut_slice().subtract(other);
    }
    #[inline]
    fn set_zero(&mut self) {
        self.as_mut_slice().set_zero();
    }
}

impl<T: Cotangent, const N: usize> Cotangent for [T; N] {
    #[inline]
    fn zero_like(&self) -> Self {
        core::array::from_fn(|i| self[i].zero_like())
    }
}
impl<T: Accumulate, const N: usize> Accumulate for [T; N] {
    #[inline]
    fn accumulate(&mut self, other: &Self) {
        self.as_mut_slice().accumulate(other);
    }
    #[inline]
    fn subtract(&mut self, other: &Self) {
        self.as_mut_slice().subtract(other);
    }
    #[inline]
    fn set_zero(&mut self) {
        self.as_mut_slice().set_zero();
    }
}

macro_rules! tuple_cotangent {
    ($(($($t:ident $i:tt),+))*) => {$(
        impl<$($t: Cotangent),+> Cotangent for ($($t,)+) {
            #[inline]
            fn zero_like(&self) -> Self {
                ($(self.$i.zero_like(),)+)
            }
        }
        impl<$($t: Accumulate),+> Accumulate for ($($t,)+) {
            #[inline]
            fn accumulate(&mut self, other: &Self) {
                $(self.$i.accumulate(&other.$i);)+
            }
            #[inline]
            fn subtract(&mut self, other: &Self) {
                $(self.$i.subtract(&other.$i);)+
            }
            #[inline]
            fn set_zero(&mut self) {
                $(self.$i.set_zero();)+
            }
        }
    )*};
}
tuple_cotangent! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
}

/// A zero owned tangent shaped like a possibly borrowed value: `Vec<T>` for `[T]`.
pub trait ZeroOwned {
    /// The owned tangent type.
    type Owned;
    /// A zero of that type shaped like `self`.
    fn zero_owned(&self) -> Self::Owned;
}
impl<T: Cotangent> ZeroOwned for [T] {
    type Owned = Vec<T>;
    fn zero_owned(&self) -> Vec<T> {
        self.iter().map(Cotangent::zero_like).collect()
    }
}
impl<T: Cotangent> ZeroOwned for T {
    type Owned = T;
    fn zero_owned(&self) -> T {
        self.zero_like()
    }
}

/// A value that stands in for a function's result before a `return` assigns it.
pub trait Placeholder {
    /// Any value of the type; it is always overwritten before it is read.
    fn placeholder() -> Self;
}
macro_rules! scalar_placeholder {
    ($($t:ty),*) => {$(impl Placeholder for $t { #[inline(always)] fn placeholder() -> Self { 0.0 } })*};
}
scalar_placeholder!(f32, f64);
impl<T> Placeholder for Vec<T> {
    #[inline(always)]
    fn placeholder() -> Self {
        Vec::new()
    }
}
impl<T: Placeholder, const N: usize> Placeholder for [T; N] {
    #[inline(always)]
    fn placeholder() -> Self {
        core::array::from_fn(|_| T::placeholder())
    }
}
macro_rules! tuple_placeholder {
    ($(($($t:ident),+))*) => {$(
        impl<$($t: Placeholder),+> Placeholder for ($($t,)+) {
            #[inline(always)]
            fn placeholder() -> Self { ($($t::placeholder(),)+) }
        }
    )*};
}
tuple_placeholder! { (A) (A, B) (A, B, C) (A, B, C, D) (A, B, C, D, E) (A, B, C, D, E, F) }

/// The tangent slot type of an argument that is not differentiated (an integer, data, a `wrt`-excluded
/// parameter). Callers always pass `None` for it.
#[derive(Clone, Copy, Debug)]
pub enum NoTangent {}

/// A zero shaped like `x` (spelled as a function so a float literal's type can still be inferred).
#[inline(always)]
pub fn zero_like<T: Cotangent>(x: &T) -> T {
    x.zero_like()
}

/// The starting value of a cotangent accumulator shaped like `x` (see [`Cotangent::accumulator_zero`]).
#[inline(always)]
pub fn bar_zero<T: Cotangent>(x: &T) -> T {
    x.accumulator_zero()
}

/// An owned zero tangent shaped like a possibly borrowed `x`.
#[inline(always)]
pub fn zero_owned<T: ZeroOwned + ?Sized>(x: &T) -> T::Owned {
    x.zero_owned()
}

/// `dst += src`.
#[inline(always)]
pub fn accumulate<T: Accumulate + ?Sized>(dst: &mut T, src: &T) {
    dst.accumulate(src);
}

/// Takes the cotangent out of `x`, leaving zero: the reverse of an assignment `v = e` hands `v̄` to `e`
/// and resets `v̄`, because the overwritten value of `v` did not influence anything after it.
#[inline(always)]
pub fn take<T: Cotangent>(x: &mut T) -> T {
    let zero = x.accumulator_zero();
    core::mem::replace(x, zero)
}

/// Checks that a caller's cotangent buffer has the length of its primal, before anything is written.
///
/// # Panics
/// If the lengths differ, naming the parameter.
#[inline(always)]
pub fn check_len(name: &str, buffer: usize, primal: usize) {
    assert!(
        buffer == primal,
        "adjoint: the cotangent buffer of `{name}` has length {buffer}, but `{name}` has length {primal}"
    );
}

/// The sum of the components of a cotangent slice: the transpose of broadcasting a scalar into
/// `vec![x; n]`.
#[inline]
pub fn sum<T: Copy + core::ops::Add<Output = T> + Cotangent>(xs: &[T], like: T) -> T {
    xs.iter().fold(like.zero_like(), |a, &b| a + b)
}

/// A finite-dimensional real vector space of parameters, tangents and gradients: what optimisers and
/// samplers need from a parameter type. Implemented for `f64`, `Vec<f64>`, `[f64; N]`, nalgebra
/// vectors and matrices of `f64`, and derived for structs of those with `#[derive(Tangent)]`.
///
/// ```
/// use adjoint::Tangent;
///
/// let p = vec![3.0, 4.0];
/// assert_eq!(p.dim(), 2);
/// assert_eq!(p.dot(&p), 25.0);
/// let mut flat = Vec::new();
/// p.flatten_into(&mut flat);
/// assert_eq!(p.unflatten(&[1.0, 2.0]), vec![1.0, 2.0]);
/// ```
pub trait Tangent: Cotangent + Clone {
    /// The number of real components.
    fn dim(&self) -> usize;
    /// The Euclidean inner product `⟨self, other⟩`.
    fn dot(&self, other: &Self) -> f64;
    /// `self += alpha · other`.
    fn axpy(&mut self, alpha: f64, other: &Self);
    /// `self *= alpha`.
    fn scale(&mut self, alpha: f64);
    /// Appends the components, in a fixed order, to `out`.
    fn flatten_into(&self, out: &mut Vec<f64>);
    /// A value shaped like `self` whose components are read, in the same order, from the front of
    /// `flat`; returns it and the number of components read. `flat` must hold at least `dim()` values.
    fn unflatten_from(&self, flat: &[f64]) -> (Self, usize);

    /// `‖self‖₂`.
    fn norm(&self) -> f64 {
        self.dot(self).sqrt()
    }
    /// A value shaped like `self` read from exactly `dim()` components.
    fn unflatten(&self, flat: &[f64]) -> Self {
        self.unflatten_from(flat).0
    }
}

impl Tangent for f64 {
    fn dim(&self) -> usize {
        1
    }
    fn dot(&self, other: &Self) -> f64 {
        self * other
    }
    fn axpy(&mut self, alpha: f64, other: &Self) {
        *self += alpha * other;
    }
    fn scale(&mut self, alpha: f64) {
        *self *= alpha;
    }
    fn flatten_into(&self, out: &mut Vec<f64>) {
        out.push(*self);
    }
    fn unflatten_from(&self, flat: &[f64]) -> (Self, usize) {
        (flat[0], 1)
    }
}

impl Tangent for Vec<f64> {
    fn dim(&self) -> usize {
        self.len()
    }
    fn dot(&self, other: &Self) -> f64 {
        self.iter().zip(other).map(|(a, b)| a * b).sum()
    }
    fn axpy(&mut self, alpha: f64, other: &Self) {
        for (a, b) in self.iter_mut().zip(other) {
            *a += alpha * b;
        }
    }
    fn scale(&mut self, alpha: f64) {
        for a in self {
            *a *= alpha;
        }
    }
    fn flatten_into(&self, out: &mut Vec<f64>) {
        out.extend_from_slice(self);
    }
    fn unflatten_from(&self, flat: &[f64]) -> (Self, usize) {
        (flat[..self.len()].to_vec(), self.len())
    }
}

impl<const N: usize> Tangent for [f64; N] {
    fn dim(&self) -> usize {
        N
    }
    fn dot(&self, other: &Self) -> f64 {
        self.iter().zip(other).map(|(a, b)| a * b).sum()
    }
    fn axpy(&mut self, alpha: f64, other: &Self) {
        for (a, b) in self.iter_mut().zip(other) {
            *a += alpha * b;
        }
    }
    fn scale(&mut self, alpha: f64) {
        for a in self {
            *a *= alpha;
        }
    }
    fn flatten_into(&self, out: &mut Vec<f64>) {
        out.extend_from_slice(self);
    }
    fn unflatten_from(&self, flat: &[f64]) -> (Self, usize) {
        (core::array::from_fn(|i| flat[i]), N)
    }
}

/// `dst -= src`: the transpose of a subtraction or negation.
#[inline(always)]
pub fn subtract<T: Accumulate + ?Sized>(dst: &mut T, src: &T) {
    dst.subtract(src);
}
