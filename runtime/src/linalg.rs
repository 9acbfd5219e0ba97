//! Derivative rules of nalgebra linear algebra, and nalgebra matrices as tangent spaces.
//!
//! Vectors and matrices (`DVector`, `DMatrix`, `SVector`, `SMatrix`, any `OMatrix<T, R, C>` of `f32` or
//! `f64`) are their own tangent and cotangent types. Each operation has a JVP (the tangent, usually by
//! the same operation on tangents) and a VJP (the transpose), written next to each other, with the
//! formula in the doc line. Products are dispatched on both operand types through [`MulRule`], so a
//! product with no rule is a compile error that names it.

use crate::dual::Dual;
use crate::rules::Real;
use crate::tangent::{Accumulate, Cotangent, Placeholder, Tangent};
use nalgebra::allocator::Allocator;
use nalgebra::{ClosedAddAssign, ClosedDivAssign, ClosedMulAssign, ClosedSubAssign, DefaultAllocator, Dim, OMatrix};

/// The scalars nalgebra rules are written for: `f32` and `f64`, and their dual numbers (on which the
/// second-order code runs the same rules). What nalgebra's products and sums need, no more: duals are not
/// a `RealField`, so norms are computed here ([`norm`], [`norm_squared`]) rather than by nalgebra.
pub trait LinalgScalar:
    Real
    + MatrixProduct
    + nalgebra::Scalar
    + num_traits::Zero
    + num_traits::One
    + ClosedAddAssign
    + ClosedSubAssign
    + ClosedMulAssign
    + ClosedDivAssign
{
}
impl LinalgScalar for f32 {}
impl LinalgScalar for f64 {}

/// `dst += a·b` for matrices of any [`LinalgScalar`]: nalgebra's `gemm` for floats (its blocked kernel),
/// three float products for duals (below).
fn gemm_acc<T: LinalgScalar, R1: Dim, C1: Dim, C2: Dim>(
    dst: &mut OMatrix<T, R1, C2>,
    a: &OMatrix<T, R1, C1>,
    b: &OMatrix<T, C1, C2>,
) where
    DefaultAllocator: Allocator<R1, C1> + Allocator<C1, C2> + Allocator<R1, C2>,
{
    T::gemm_acc(dst, a, b)
}

/// What the product rules need of a scalar beyond arithmetic: `dst += a·b` on matrices. nalgebra
/// multiplies matrices of duals with its generic triple loop, several times slower than its blocked
/// kernel for floats; duals split instead: `(A + εȦ)(B + εḂ) = AB + ε(ȦB + AḂ)`, three float products.
pub trait MatrixProduct: nalgebra::Scalar + Sized {
    /// `a·b` (for floats exactly nalgebra's `a * b`, so values equal the primal's bit for bit).
    fn matmul<R1: Dim, C1: Dim, C2: Dim>(a: &OMatrix<Self, R1, C1>, b: &OMatrix<Self, C1, C2>) -> OMatrix<Self, R1, C2>
    where
        DefaultAllocator: Allocator<R1, C1> + Allocator<C1, C2> + Allocator<R1, C2>;
    /// `dst += a·b`.
    fn gemm_acc<R1: Dim, C1: Dim, C2: Dim>(
        dst: &mut OMatrix<Self, R1, C2>,
        a: &OMatrix<Self, R1, C1>,
        b: &OMatrix<Self, C1, C2>,
    ) where
        DefaultAllocator: Allocator<R1, C1> + Allocator<C1, C2> + Allocator<R1, C2>;
}

macro_rules! matrix_product_for {
    ($($t:ident),*) => {$(
        impl MatrixProduct for $t {
            #[inline]
            fn matmul<R1: Dim, C1: Dim, C2: Dim>(a: &OMatrix<$t, R1, C1>, b: &OMatrix<$t, C1, C2>) -> OMatrix<$t, R1, C2>
            where
                DefaultAllocator: Allocator<R1, C1> + Allocator<C1, C2> + Allocator<R1, C2>,
            {
                a * b
            }
            #[inline]
            fn gemm_acc<R1: Dim, C1: Dim, C2: Dim>(
                dst: &mut OMatrix<$t, R1, C2>,
                a: &OMatrix<$t, R1, C1>,
                b: &OMatrix<$t, C1, C2>,
            ) where
                DefaultAllocator: Allocator<R1, C1> + Allocator<C1, C2> + Allocator<R1, C2>,
            {
                dst.gemm(1.0, a, b, 1.0);
            }
        }
        impl MatrixProduct for Dual<$t> {
            fn matmul<R1: Dim, C1: Dim, C2: Dim>(
                a: &OMatrix<Dual<$t>, R1, C1>,
                b: &OMatrix<Dual<$t>, C1, C2>,
            ) -> OMatrix<Dual<$t>, R1, C2>
            where
                DefaultAllocator: Allocator<R1, C1> + Allocator<C1, C2> + Allocator<R1, C2>,
            {
                let (ar, ae) = crate::dual_linalg::split(a);
                let (br, be) = crate::dual_linalg::split(b);
                let mut eps = &ae * &br;
                eps.gemm(1.0, &ar, &be, 1.0);
                (ar * br).zip_map(&eps, Dual::new)
            }
            fn gemm_acc<R1: Dim, C1: Dim, C2: Dim>(
                dst: &mut OMatrix<Dual<$t>, R1, C2>,
                a: &OMatrix<Dual<$t>, R1, C1>,
                b: &OMatrix<Dual<$t>, C1, C2>,
            ) where
                DefaultAllocator: Allocator<R1, C1> + Allocator<C1, C2> + Allocator<R1, C2>,
            {
                // Value parts accumulated by the same `gemm` as the float code, so they are its bits.
                let (ar, ae) = crate::dual_linalg::split(a);
                let (br, be) = crate::dual_linalg::split(b);
                let (mut dr, mut de) = crate::dual_linalg::split(dst);
                dr.gemm(1.0, &ar, &br, 1.0);
                de.gemm(1.0, &ae, &br, 1.0);
                de.gemm(1.0, &ar, &be, 1.0);
                for ((d, r), e) in dst.as_mut_slice().iter_mut().zip(dr.as_slice()).zip(de.as_slice()) {
                    (d.re, d.eps) = (*r, *e);
                }
            }
        }
        impl LinalgScalar for Dual<$t> {}
    )*};
}
matrix_product_for!(f32, f64);

impl<T: LinalgScalar, R: Dim, C: Dim> Accumulate for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    #[inline]
    fn accumulate(&mut self, other: &Self) {
        assert_eq!(self.shape(), other.shape(), "adjoint: cotangent shape mismatch");
        // Owned matrices are contiguous; slices iterate several times faster than nalgebra's iterators.
        for (a, b) in self.as_mut_slice().iter_mut().zip(other.as_slice()) {
            *a += *b;
        }
    }
    #[inline]
    fn subtract(&mut self, other: &Self) {
        assert_eq!(self.shape(), other.shape(), "adjoint: cotangent shape mismatch");
        for (a, b) in self.as_mut_slice().iter_mut().zip(other.as_slice()) {
            *a -= *b;
        }
    }
    #[inline]
    fn set_zero(&mut self) {
        self.as_mut_slice().fill(<T as Real>::ZERO);
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
        out.extend_from_slice(self.as_slice());
    }
    fn unflatten_from(&self, flat: &[f64]) -> (Self, usize) {
        let (r, c) = self.shape_generic();
        let n = self.len();
        (OMatrix::from_column_slice_generic(r, c, &flat[..n]), n)
    }
}

/// `dst += alpha · src`, elementwise, for matrices of any shape (nalgebra's `axpy` is for vectors).
#[inline]
pub fn add_scaled<T: LinalgScalar, R: Dim, C: Dim>(dst: &mut OMatrix<T, R, C>, alpha: T, src: &OMatrix<T, R, C>)
where
    DefaultAllocator: Allocator<R, C>,
{
    for (d, s) in dst.as_mut_slice().iter_mut().zip(src.as_slice()) {
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
    )*};
}
scalar_rules!(f32, f64);

// Scalars times matrices, also of duals (the second-order code runs these rules on duals).
macro_rules! scalar_matrix_rules {
    ($($t:ty),*) => {$(
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
                add_scaled(a_bar, <$t as Real>::ONE / *b, z_bar);
            }
            fn div_vjp_b(a: &OMatrix<$t, R, C>, b: &$t, z_bar: &OMatrix<$t, R, C>, b_bar: &mut $t) {
                *b_bar -= z_bar.dot(a) / (b * b);
            }
        }
    )*};
}
scalar_matrix_rules!(f32, f64, Dual<f32>, Dual<f64>);

impl<T: LinalgScalar, R1: Dim, C1: Dim, C2: Dim> MulRule<OMatrix<T, C1, C2>> for OMatrix<T, R1, C1>
where
    DefaultAllocator: Allocator<R1, C1> + Allocator<C1, C2> + Allocator<R1, C2> + Allocator<C2, C1> + Allocator<C1, R1>,
{
    type Output = OMatrix<T, R1, C2>;
    fn mul(a: &Self, b: &OMatrix<T, C1, C2>) -> OMatrix<T, R1, C2> {
        T::matmul(a, b)
    }
    /// z = a·b ⇒ ā += z̄·bᵀ (`gemm` on a contiguous transposed copy, which reaches nalgebra's blocked
    /// kernel; strided views do not do so safely in nalgebra 0.33).
    fn mul_vjp_a(_a: &Self, b: &OMatrix<T, C1, C2>, z_bar: &OMatrix<T, R1, C2>, a_bar: &mut Self) {
        gemm_acc(a_bar, z_bar, &b.transpose());
    }
    /// z = a·b ⇒ b̄ += aᵀ·z̄ (likewise: nalgebra's `gemm_tr` is a matrix-vector product per column).
    fn mul_vjp_b(a: &Self, _b: &OMatrix<T, C1, C2>, z_bar: &OMatrix<T, R1, C2>, b_bar: &mut OMatrix<T, C1, C2>) {
        gemm_acc(b_bar, &a.transpose(), z_bar);
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

// ---- methods: each primal, its tangent (emitted by the macro from the method itself, noted here), and
// ---- its VJP below. `A`, `B` are matrices of the same shape unless said otherwise.

/// z = Aᵀ ⇒ ż = Ȧᵀ; Ā += z̄ᵀ
pub fn transpose_vjp<T: LinalgScalar, R: Dim, C: Dim>(z_bar: &OMatrix<T, C, R>, a_bar: &mut OMatrix<T, R, C>)
where
    DefaultAllocator: Allocator<R, C> + Allocator<C, R>,
{
    for i in 0..a_bar.nrows() {
        for j in 0..a_bar.ncols() {
            a_bar[(i, j)] += z_bar[(j, i)];
        }
    }
}

/// z = Σᵢ Aᵢ ⇒ ż = Σᵢ Ȧᵢ; Āᵢ += z̄
pub fn sum_vjp<T: LinalgScalar, R: Dim, C: Dim>(z_bar: &T, a_bar: &mut OMatrix<T, R, C>)
where
    DefaultAllocator: Allocator<R, C>,
{
    a_bar.add_scalar_mut(*z_bar);
}

/// z = ⟨A, B⟩ ⇒ ż = ⟨Ȧ, B⟩ + ⟨A, Ḃ⟩; Ā += z̄·B (and B̄ += z̄·A, the same rule with the roles swapped)
pub fn dot_vjp<T: LinalgScalar, R: Dim, C: Dim>(other: &OMatrix<T, R, C>, z_bar: &T, a_bar: &mut OMatrix<T, R, C>)
where
    DefaultAllocator: Allocator<R, C>,
{
    add_scaled(a_bar, *z_bar, other);
}

/// z = ‖A‖², the sum of squares in storage order, for any [`LinalgScalar`] including duals (nalgebra's own
/// `norm_squared` needs a `ComplexField`). nalgebra's f64 kernel sums in another order, so the two may
/// differ in the last bits: the value `f_hvp` returns for a function taking norms is `f`'s to a few ulps.
///
/// ```
/// let v = nalgebra::DVector::from_vec(vec![3.0, 4.0]);
/// assert_eq!(adjoint::linalg::norm_squared(&v), 25.0);
/// assert_eq!(adjoint::linalg::norm(&v), 5.0);
/// ```
pub fn norm_squared<T: LinalgScalar, R: Dim, C: Dim>(a: &OMatrix<T, R, C>) -> T
where
    DefaultAllocator: Allocator<R, C>,
{
    let mut s = <T as Real>::ZERO;
    for x in a.as_slice() {
        s += *x * *x;
    }
    s
}

/// z = ‖A‖ (Frobenius for matrices), for any [`LinalgScalar`] including duals (see [`norm_squared`]).
pub fn norm<T: LinalgScalar, R: Dim, C: Dim>(a: &OMatrix<T, R, C>) -> T
where
    DefaultAllocator: Allocator<R, C>,
{
    let s = norm_squared(a);
    // At A = 0 the norm has no derivative; its tangent is taken as 0 there (as `norm_jvp` and `norm_vjp`
    // do), not the NaN of √ at 0 on duals.
    if s.to_f64() == 0.0 {
        <T as Real>::ZERO
    } else {
        s.__sqrt()
    }
}

/// z = ‖A‖² ⇒ ż = 2⟨A, Ȧ⟩; Ā += 2z̄·A
pub fn norm_squared_vjp<T: LinalgScalar, R: Dim, C: Dim>(a: &OMatrix<T, R, C>, z_bar: &T, a_bar: &mut OMatrix<T, R, C>)
where
    DefaultAllocator: Allocator<R, C>,
{
    add_scaled(a_bar, *z_bar + *z_bar, a);
}

/// z = ‖A‖ ⇒ ż = ⟨A, Ȧ⟩/z; Ā += (z̄/z)·A (nothing at A = 0, where the norm has no derivative)
pub fn norm_vjp<T: LinalgScalar, R: Dim, C: Dim>(a: &OMatrix<T, R, C>, z: &T, z_bar: &T, a_bar: &mut OMatrix<T, R, C>)
where
    DefaultAllocator: Allocator<R, C>,
{
    // Compared by value: on duals z = 0 + ε·ż.
    if z.to_f64() != 0.0 {
        add_scaled(a_bar, *z_bar / *z, a);
    }
}

/// z = ‖A‖ ⇒ ż = ⟨A, Ȧ⟩/z (0 at A = 0)
pub fn norm_jvp<T: LinalgScalar, R: Dim, C: Dim>(a: &OMatrix<T, R, C>, z: &T, a_dot: &OMatrix<T, R, C>) -> T
where
    DefaultAllocator: Allocator<R, C>,
{
    if z.to_f64() == 0.0 {
        <T as Real>::ZERO
    } else {
        a.dot(a_dot) / *z
    }
}

/// z = A∘B ⇒ ż = Ȧ∘B + A∘Ḃ; Ā += z̄∘B (and B̄ += z̄∘A)
pub fn component_mul_vjp<T: LinalgScalar, R: Dim, C: Dim>(
    other: &OMatrix<T, R, C>,
    z_bar: &OMatrix<T, R, C>,
    a_bar: &mut OMatrix<T, R, C>,
) where
    DefaultAllocator: Allocator<R, C>,
{
    for ((a, o), z) in a_bar.as_mut_slice().iter_mut().zip(other.as_slice()).zip(z_bar.as_slice()) {
        *a += *z * *o;
    }
}

/// z = A⊘B ⇒ ż = (Ȧ − z∘Ḃ)⊘B; Ā += z̄⊘B
pub fn component_div_vjp_a<T: LinalgScalar, R: Dim, C: Dim>(
    b: &OMatrix<T, R, C>,
    z_bar: &OMatrix<T, R, C>,
    a_bar: &mut OMatrix<T, R, C>,
) where
    DefaultAllocator: Allocator<R, C>,
{
    for ((a, b), z) in a_bar.as_mut_slice().iter_mut().zip(b.as_slice()).zip(z_bar.as_slice()) {
        *a += *z / *b;
    }
}

/// z = A⊘B ⇒ B̄ −= z̄∘z⊘B
pub fn component_div_vjp_b<T: LinalgScalar, R: Dim, C: Dim>(
    b: &OMatrix<T, R, C>,
    z: &OMatrix<T, R, C>,
    z_bar: &OMatrix<T, R, C>,
    b_bar: &mut OMatrix<T, R, C>,
) where
    DefaultAllocator: Allocator<R, C>,
{
    for (((bb, b), z), zb) in b_bar.as_mut_slice().iter_mut().zip(b.as_slice()).zip(z.as_slice()).zip(z_bar.as_slice())
    {
        *bb -= *zb * *z / *b;
    }
}

/// z = A∘B ⇒ ż = Ȧ∘B + A∘Ḃ (the tangent of the elementwise product and of `component_div`'s numerator)
pub fn component_mul_jvp<T: LinalgScalar, R: Dim, C: Dim>(
    a: &OMatrix<T, R, C>,
    a_dot: Option<&OMatrix<T, R, C>>,
    b: &OMatrix<T, R, C>,
    b_dot: Option<&OMatrix<T, R, C>>,
) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let mut z_dot = a.zero_like();
    if let Some(a_dot) = a_dot {
        component_mul_vjp(b, a_dot, &mut z_dot);
    }
    if let Some(b_dot) = b_dot {
        component_mul_vjp(a, b_dot, &mut z_dot);
    }
    z_dot
}

/// z = A⊘B ⇒ ż = (Ȧ − z∘Ḃ)⊘B
pub fn component_div_jvp<T: LinalgScalar, R: Dim, C: Dim>(
    b: &OMatrix<T, R, C>,
    z: &OMatrix<T, R, C>,
    a_dot: Option<&OMatrix<T, R, C>>,
    b_dot: Option<&OMatrix<T, R, C>>,
) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let mut z_dot = b.zero_like();
    if let Some(a_dot) = a_dot {
        component_div_vjp_a(b, a_dot, &mut z_dot);
    }
    if let Some(b_dot) = b_dot {
        component_div_vjp_b(b, z, b_dot, &mut z_dot);
    }
    z_dot
}

/// z = A + s·𝟙 ⇒ ż = Ȧ + ṡ·𝟙; s̄ += Σᵢ z̄ᵢ (and Ā += z̄)
pub fn add_scalar_vjp_s<T: LinalgScalar, R: Dim, C: Dim>(z_bar: &OMatrix<T, R, C>, s_bar: &mut T)
where
    DefaultAllocator: Allocator<R, C>,
{
    *s_bar += z_bar.sum();
}

/// z = row i of A ⇒ ż = row i of Ȧ; (row i of Ā) += z̄
pub fn row_vjp<T: LinalgScalar, R: Dim, C: Dim>(
    i: usize,
    z_bar: &OMatrix<T, nalgebra::U1, C>,
    a_bar: &mut OMatrix<T, R, C>,
) where
    DefaultAllocator: Allocator<R, C> + Allocator<nalgebra::U1, C>,
{
    for j in 0..a_bar.ncols() {
        a_bar[(i, j)] += z_bar[j];
    }
}

/// z = column j of A ⇒ ż = column j of Ȧ; (column j of Ā) += z̄
pub fn column_vjp<T: LinalgScalar, R: Dim, C: Dim>(
    j: usize,
    z_bar: &OMatrix<T, R, nalgebra::U1>,
    a_bar: &mut OMatrix<T, R, C>,
) where
    DefaultAllocator: Allocator<R, C> + Allocator<R, nalgebra::U1>,
{
    for i in 0..a_bar.nrows() {
        a_bar[(i, j)] += z_bar[i];
    }
}

/// z = A.map(f) ⇒ żᵢ = f′(Aᵢ)·Ȧᵢ, with `jvp(v, v̇) = (f(v), f′(v)·v̇)` generated by the macro from the
/// closure's body.
pub fn map_jvp<T: LinalgScalar, R: Dim, C: Dim>(
    a: &OMatrix<T, R, C>,
    a_dot: &OMatrix<T, R, C>,
    jvp: impl Fn(T, T) -> (T, T),
) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    a.zip_map(a_dot, |v, v_dot| jvp(v, v_dot).1)
}

/// z = A.map(f) ⇒ Āᵢ += z̄ᵢ·f′(Aᵢ), the derivative taken from the closure's JVP at `v̇ = 1`.
pub fn map_vjp<T: LinalgScalar, R: Dim, C: Dim>(
    a: &OMatrix<T, R, C>,
    z_bar: &OMatrix<T, R, C>,
    a_bar: &mut OMatrix<T, R, C>,
    jvp: impl Fn(T, T) -> (T, T),
) where
    DefaultAllocator: Allocator<R, C>,
{
    for ((ab, a), z) in a_bar.as_mut_slice().iter_mut().zip(a.as_slice()).zip(z_bar.as_slice()) {
        *ab += *z * jvp(*a, <T as Real>::ONE).1;
    }
}

/// z = A.zip_map(B, f) ⇒ żᵢ = ∂f/∂u·Ȧᵢ + ∂f/∂v·Ḃᵢ, with `jvp(u, u̇, v, v̇)` generated from the closure
/// (a missing tangent is zero).
pub fn zip_map_jvp<T: LinalgScalar, R: Dim, C: Dim>(
    a: &OMatrix<T, R, C>,
    a_dot: Option<&OMatrix<T, R, C>>,
    b: &OMatrix<T, R, C>,
    b_dot: Option<&OMatrix<T, R, C>>,
    jvp: impl Fn(T, T, T, T) -> (T, T),
) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let zero = <T as Real>::ZERO;
    let mut z_dot = a.zero_like();
    for (k, zd) in z_dot.iter_mut().enumerate() {
        let ad = a_dot.map_or(zero, |d| d[k]);
        let bd = b_dot.map_or(zero, |d| d[k]);
        *zd = jvp(a[k], ad, b[k], bd).1;
    }
    z_dot
}

/// z = A.zip_map(B, f) ⇒ Āᵢ += z̄ᵢ·∂f/∂u(Aᵢ, Bᵢ) (`first = true`) or B̄ᵢ += z̄ᵢ·∂f/∂v(Aᵢ, Bᵢ), the partial
/// taken from the closure's JVP with a unit tangent on one side.
pub fn zip_map_vjp<T: LinalgScalar, R: Dim, C: Dim>(
    a: &OMatrix<T, R, C>,
    b: &OMatrix<T, R, C>,
    z_bar: &OMatrix<T, R, C>,
    x_bar: &mut OMatrix<T, R, C>,
    first: bool,
    jvp: impl Fn(T, T, T, T) -> (T, T),
) where
    DefaultAllocator: Allocator<R, C>,
{
    let (one, zero) = (<T as Real>::ONE, <T as Real>::ZERO);
    let (du, dv) = if first { (one, zero) } else { (zero, one) };
    for k in 0..x_bar.len() {
        x_bar[k] += z_bar[k] * jvp(a[k], du, b[k], dv).1;
    }
}

/// z = from_element(shape, x) ⇒ ż = from_element(shape, ẋ); x̄ += Σᵢ z̄ᵢ
pub fn from_element_vjp<T: LinalgScalar, R: Dim, C: Dim>(z_bar: &OMatrix<T, R, C>, x_bar: &mut T)
where
    DefaultAllocator: Allocator<R, C>,
{
    *x_bar += z_bar.sum();
}

/// z = A.map(f), with the elementwise derivative f′(A) computed in the same pass (one evaluation of the
/// closure's JVP per element, at `v̇ = 1`): what the reverse sweep keeps, so that `f` is not evaluated
/// again when its derivative is needed (Āᵢ += z̄ᵢ·f′(Aᵢ) is then [`component_mul_vjp`]).
pub fn map_with_derivative<T: LinalgScalar, R: Dim, C: Dim>(
    a: &OMatrix<T, R, C>,
    jvp: impl Fn(T, T) -> (T, T),
) -> (OMatrix<T, R, C>, OMatrix<T, R, C>)
where
    DefaultAllocator: Allocator<R, C>,
{
    let (mut z, mut d) = (a.clone(), a.clone());
    for ((zk, dk), ak) in z.as_mut_slice().iter_mut().zip(d.as_mut_slice()).zip(a.as_slice()) {
        (*zk, *dk) = jvp(*ak, <T as Real>::ONE);
    }
    (z, d)
}
