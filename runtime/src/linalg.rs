//! Derivative rules of nalgebra linear algebra, and nalgebra matrices as tangent spaces.
//!
//! Vectors and matrices (`DVector`, `DMatrix`, `SVector`, `SMatrix`, any `OMatrix<T, R, C>` of `f32` or
//! `f64`) are their own tangent and cotangent types. Each operation has a JVP (the tangent, usually by
//! the same operation on tangents) and a VJP (the transpose), written next to each other, with the
//! formula in the doc line. Products are dispatched on both operand types through [`MulRule`], so a
//! product with no rule is a compile error that names it.

use crate::rules::Real;
use crate::tangent::{Accumulate, Cotangent, Placeholder, Tangent, ZeroOwned};
use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix, RealField};

/// The scalars nalgebra rules are written for: `f32` and `f64`.
pub trait LinalgScalar: Real + RealField {}
impl LinalgScalar for f32 {}
impl LinalgScalar for f64 {}

impl<T: LinalgScalar, R: Dim, C: Dim> Accumulate for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    #[inline]
    fn accumulate(&mut self, other: &Self) {
        assert_eq!(self.shape(), other.shape(), "adjoint: cotangent shape mismatch");
        for (a, b) in self.iter_mut().zip(other.iter()) {
            *a += *b;
        }
    }
    #[inline]
    fn subtract(&mut self, other: &Self) {
        assert_eq!(self.shape(), other.shape(), "adjoint: cotangent shape mismatch");
        for (a, b) in self.iter_mut().zip(other.iter()) {
            *a -= *b;
        }
    }
    #[inline]
    fn set_zero(&mut self) {
        self.fill(<T as Real>::ZERO);
    }
}

impl<T: LinalgScalar, R: Dim, C: Dim> Cotangent for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    #[inline]
    fn zero_like(&self) -> Self {
        self.map(|_| <T as Real>::ZERO)
    }
}

impl<T: LinalgScalar, R: Dim, C: Dim> ZeroOwned for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Owned = Self;
    fn zero_owned(&self) -> Self {
        self.zero_like()
    }
}

impl<T: LinalgScalar, R: Dim, C: Dim> Placeholder for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    fn placeholder() -> Self {
        let r = R::from_usize(R::try_to_usize().unwrap_or(0));
        let c = C::from_usize(C::try_to_usize().unwrap_or(0));
        OMatrix::from_element_generic(r, c, <T as Real>::ZERO)
    }
}

impl<R: Dim, C: Dim> Tangent for OMatrix<f64, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    fn dim(&self) -> usize {
        self.len()
    }
    fn dot(&self, other: &Self) -> f64 {
        nalgebra::Matrix::dot(self, other)
    }
    fn axpy(&mut self, alpha: f64, other: &Self) {
        add_scaled(self, alpha, other);
    }
    fn scale(&mut self, alpha: f64) {
        self.scale_mut(alpha);
    }
    fn flatten_into(&self, out: &mut Vec<f64>) {
        out.extend(self.iter().copied());
    }
    fn unflatten_from(&self, flat: &[f64]) -> (Self, usize) {
        let (r, c) = self.shape_generic();
        let n = self.len();
        (OMatrix::from_iterator_generic(r, c, flat[..n].iter().copied()), n)
    }
}

/// `dst += alpha · src`, elementwise, for matrices of any shape (nalgebra's `axpy` is for vectors).
#[inline]
pub fn add_scaled<T: LinalgScalar, R: Dim, C: Dim>(dst: &mut OMatrix<T, R, C>, alpha: T, src: &OMatrix<T, R, C>)
where
    DefaultAllocator: Allocator<R, C>,
{
    for (d, s) in dst.iter_mut().zip(src.iter()) {
        *d += alpha * *s;
    }
}

/// Products `a * b` and their derivatives, dispatched on both operand types.
#[diagnostic::on_unimplemented(
    message = "no derivative rule for the product `{Self} * {B}`",
    label = "this product cannot be differentiated",
    note = "differentiable products: scalar·scalar, matrix·matrix, matrix·vector, scalar·matrix and matrix·scalar, of f32 or f64"
)]
pub trait MulRule<B> {
    /// The type of `a * b`.
    type Output;
    /// z = a·b
    fn mul(a: &Self, b: &B) -> Self::Output;
    /// z = a·b ⇒ ā += z̄·bᵀ
    fn mul_vjp_a(a: &Self, b: &B, z_bar: &Self::Output, a_bar: &mut Self);
    /// z = a·b ⇒ b̄ += aᵀ·z̄
    fn mul_vjp_b(a: &Self, b: &B, z_bar: &Self::Output, b_bar: &mut B);
}

/// Quotients `a / b` and their derivatives (scalars, and a matrix divided by a scalar).
#[diagnostic::on_unimplemented(
    message = "no derivative rule for the quotient `{Self} / {B}`",
    label = "this quotient cannot be differentiated",
    note = "differentiable quotients: scalar/scalar and matrix/scalar, of f32 or f64"
)]
pub trait DivRule<B> {
    /// The type of `a / b`.
    type Output;
    /// z = a/b
    fn div(a: &Self, b: &B) -> Self::Output;
    /// z = a/b ⇒ ā += z̄/b
    fn div_vjp_a(a: &Self, b: &B, z_bar: &Self::Output, a_bar: &mut Self);
    /// z = a/b ⇒ b̄ −= ⟨z̄, a⟩/b²
    fn div_vjp_b(a: &Self, b: &B, z_bar: &Self::Output, b_bar: &mut B);
}

macro_rules! scalar_rules {
    ($($t:ty),*) => {$(
        impl MulRule<$t> for $t {
            type Output = $t;
            #[inline(always)]
            fn mul(a: &$t, b: &$t) -> $t { a * b }
            #[inline(always)]
            fn mul_vjp_a(_a: &$t, b: &$t, z_bar: &$t, a_bar: &mut $t) { *a_bar += z_bar * b; }
            #[inline(always)]
            fn mul_vjp_b(a: &$t, _b: &$t, z_bar: &$t, b_bar: &mut $t) { *b_bar += a * z_bar; }
        }
        impl DivRule<$t> for $t {
            type Output = $t;
            #[inline(always)]
            fn div(a: &$t, b: &$t) -> $t { a / b }
            #[inline(always)]
            fn div_vjp_a(_a: &$t, b: &$t, z_bar: &$t, a_bar: &mut $t) { *a_bar += z_bar / b; }
            #[inline(always)]
            fn div_vjp_b(a: &$t, b: &$t, z_bar: &$t, b_bar: &mut $t) { *b_bar -= z_bar * a / (b * b); }
        }
        impl<R: Dim, C: Dim> MulRule<OMatrix<$t, R, C>> for $t
        where
            DefaultAllocator: Allocator<R, C>,
        {
            type Output = OMatrix<$t, R, C>;
            fn mul(a: &$t, b: &OMatrix<$t, R, C>) -> OMatrix<$t, R, C> { b * *a }
            /// z = s·B ⇒ s̄ += ⟨z̄, B⟩
            fn mul_vjp_a(_a: &$t, b: &OMatrix<$t, R, C>, z_bar: &OMatrix<$t, R, C>, a_bar: &mut $t) {
                *a_bar += z_bar.dot(b);
            }
            /// z = s·B ⇒ B̄ += s·z̄
            fn mul_vjp_b(a: &$t, _b: &OMatrix<$t, R, C>, z_bar: &OMatrix<$t, R, C>, b_bar: &mut OMatrix<$t, R, C>) {
                add_scaled(b_bar, *a, z_bar);
            }
        }
        impl<R: Dim, C: Dim> MulRule<$t> for OMatrix<$t, R, C>
        where
            DefaultAllocator: Allocator<R, C>,
        {
            type Output = OMatrix<$t, R, C>;
            fn mul(a: &OMatrix<$t, R, C>, b: &$t) -> OMatrix<$t, R, C> { a * *b }
            /// z = A·s ⇒ Ā += s·z̄
            fn mul_vjp_a(_a: &OMatrix<$t, R, C>, b: &$t, z_bar: &OMatrix<$t, R, C>, a_bar: &mut OMatrix<$t, R, C>) {
                add_scaled(a_bar, *b, z_bar);
            }
            /// z = A·s ⇒ s̄ += ⟨z̄, A⟩
            fn mul_vjp_b(a: &OMatrix<$t, R, C>, _b: &$t, z_bar: &OMatrix<$t, R, C>, b_bar: &mut $t) {
                *b_bar += z_bar.dot(a);
            }
        }
        impl<R: Dim, C: Dim> DivRule<$t> for OMatrix<$t, R, C>
        where
            DefaultAllocator: Allocator<R, C>,
        {
            type Output = OMatrix<$t, R, C>;
            fn div(a: &OMatrix<$t, R, C>, b: &$t) -> OMatrix<$t, R, C> { a / *b }
            fn div_vjp_a(_a: &OMatrix<$t, R, C>, b: &$t, z_bar: &OMatrix<$t, R, C>, a_bar: &mut OMatrix<$t, R, C>) {
                add_scaled(a_bar, 1.0 / *b, z_bar);
            }
            fn div_vjp_b(a: &OMatrix<$t, R, C>, b: &$t, z_bar: &OMatrix<$t, R, C>, b_bar: &mut $t) {
                *b_bar -= z_bar.dot(a) / (b * b);
            }
        }
    )*};
}
scalar_rules!(f32, f64);

impl<T: LinalgScalar, R1: Dim, C1: Dim, C2: Dim> MulRule<OMatrix<T, C1, C2>> for OMatrix<T, R1, C1>
where
    DefaultAllocator: Allocator<R1, C1> + Allocator<C1, C2> + Allocator<R1, C2> + Allocator<C2, C1>,
{
    type Output = OMatrix<T, R1, C2>;
    fn mul(a: &Self, b: &OMatrix<T, C1, C2>) -> OMatrix<T, R1, C2> {
        a * b
    }
    fn mul_vjp_a(_a: &Self, b: &OMatrix<T, C1, C2>, z_bar: &OMatrix<T, R1, C2>, a_bar: &mut Self) {
        a_bar.gemm(T::one(), z_bar, &b.transpose(), T::one());
    }
    fn mul_vjp_b(a: &Self, _b: &OMatrix<T, C1, C2>, z_bar: &OMatrix<T, R1, C2>, b_bar: &mut OMatrix<T, C1, C2>) {
        b_bar.gemm_tr(T::one(), a, z_bar, T::one());
    }
}

/// `a * b` for any operand types with a product rule.
#[inline(always)]
pub fn mul<A: MulRule<B>, B>(a: &A, b: &B) -> A::Output {
    A::mul(a, b)
}
/// z = a·b ⇒ ā += z̄·bᵀ
#[inline(always)]
pub fn mul_vjp_a<A: MulRule<B>, B>(a: &A, b: &B, z_bar: &A::Output, a_bar: &mut A) {
    A::mul_vjp_a(a, b, z_bar, a_bar)
}
/// z = a·b ⇒ b̄ += aᵀ·z̄
#[inline(always)]
pub fn mul_vjp_b<A: MulRule<B>, B>(a: &A, b: &B, z_bar: &A::Output, b_bar: &mut B) {
    A::mul_vjp_b(a, b, z_bar, b_bar)
}
/// `a / b` for any operand types with a quotient rule.
#[inline(always)]
pub fn div<A: DivRule<B>, B>(a: &A, b: &B) -> A::Output {
    A::div(a, b)
}
/// z = a/b ⇒ ā += z̄/b
#[inline(always)]
pub fn div_vjp_a<A: DivRule<B>, B>(a: &A, b: &B, z_bar: &A::Output, a_bar: &mut A) {
    A::div_vjp_a(a, b, z_bar, a_bar)
}
/// z = a/b ⇒ b̄ −= ⟨z̄, a⟩/b²
#[inline(always)]
pub fn div_vjp_b<A: DivRule<B>, B>(a: &A, b: &B, z_bar: &A::Output, b_bar: &mut B) {
    A::div_vjp_b(a, b, z_bar, b_bar)
}
