//! Products and quotients mixing constant float matrices with dual ones, for second-order code.
//!
//! In the Hessian-vector product the differentiated values are duals (`DVector<Dual<f64>>`) while data
//! stays in floats (`DMatrix<f64>`), so `A·x` meets both. Lifting `A` to duals on every product would
//! copy it; instead a dual matrix is split into its value and ε parts and each is multiplied by the float
//! matrix with nalgebra's own kernel: `A·(x + ε·ẋ) = A·x + ε·A·ẋ`.
//!
//! The cotangent of the float operand of these rules is its value part: it is never asked for, since a
//! constant has no cotangent, but the [`MulRule`] trait has the slot.
//!
//! ```
//! use adjoint::dual::Dual;
//! use nalgebra::{DMatrix, DVector};
//!
//! let a = DMatrix::<f64>::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
//! let x = DVector::from_vec(vec![Dual::new(1.0, 1.0), Dual::new(0.0, -1.0)]);
//! let y = adjoint::linalg::mul(&a, &x);
//! assert_eq!(y[0], Dual::new(1.0, -1.0));
//! assert_eq!(y[1], Dual::new(3.0, -1.0));
//! ```

use crate::dual::Dual;
use crate::linalg::{add_scaled, DivRule, MulRule};
use crate::rules::Real;
use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix};

/// The value and ε parts of a dual matrix.
pub fn split<T: Real + nalgebra::Scalar, R: Dim, C: Dim>(
    m: &OMatrix<Dual<T>, R, C>,
) -> (OMatrix<T, R, C>, OMatrix<T, R, C>)
where
    DefaultAllocator: Allocator<R, C>,
{
    (m.map(|d| d.re), m.map(|d| d.eps))
}

/// `re + ε·eps`, elementwise.
fn join<T: Real + nalgebra::Scalar, R: Dim, C: Dim>(
    re: &OMatrix<T, R, C>,
    eps: &OMatrix<T, R, C>,
) -> OMatrix<Dual<T>, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    re.zip_map(eps, Dual::new)
}

/// `dst += re + ε·eps`, elementwise.
fn add_join<T: Real + nalgebra::Scalar, R: Dim, C: Dim>(
    dst: &mut OMatrix<Dual<T>, R, C>,
    re: &OMatrix<T, R, C>,
    eps: &OMatrix<T, R, C>,
) where
    DefaultAllocator: Allocator<R, C>,
{
    for ((d, r), e) in dst.as_mut_slice().iter_mut().zip(re.as_slice()).zip(eps.as_slice()) {
        d.re += *r;
        d.eps += *e;
    }
}

macro_rules! mixed_rules {
    ($($t:ident),*) => {$(
        /// Float matrix · dual matrix: `A·(B + ε·Ḃ) = A·B + ε·A·Ḃ`.
        impl<R1: Dim, C1: Dim, C2: Dim> MulRule<OMatrix<Dual<$t>, C1, C2>> for OMatrix<$t, R1, C1>
        where
            DefaultAllocator: Allocator<R1, C1> + Allocator<C1, C2> + Allocator<R1, C2> + Allocator<C2, C1> + Allocator<C1, R1>,
        {
            type Output = OMatrix<Dual<$t>, R1, C2>;
            fn mul(a: &Self, b: &OMatrix<Dual<$t>, C1, C2>) -> Self::Output {
                let (re, eps) = split(b);
                join(&(a * re), &(a * eps))
            }
            /// ā += Re(z̄·bᵀ) (a constant's slot: never used)
            fn mul_vjp_a(_a: &Self, b: &OMatrix<Dual<$t>, C1, C2>, z_bar: &Self::Output, a_bar: &mut Self) {
                let (z, b) = (z_bar.map(|d| d.re), b.map(|d| d.re));
                a_bar.gemm(1.0, &z, &b.transpose(), 1.0);
            }
            /// b̄ += aᵀ·z̄, value and ε parts
            fn mul_vjp_b(a: &Self, _b: &OMatrix<Dual<$t>, C1, C2>, z_bar: &Self::Output, b_bar: &mut OMatrix<Dual<$t>, C1, C2>) {
                let (re, eps) = split(z_bar);
                let at = a.transpose();
                add_join(b_bar, &(&at * re), &(&at * eps));
            }
        }

        /// Dual matrix · float matrix: `(A + ε·Ȧ)·B = A·B + ε·Ȧ·B`.
        impl<R1: Dim, C1: Dim, C2: Dim> MulRule<OMatrix<$t, C1, C2>> for OMatrix<Dual<$t>, R1, C1>
        where
            DefaultAllocator: Allocator<R1, C1> + Allocator<C1, C2> + Allocator<R1, C2> + Allocator<C2, C1> + Allocator<C1, R1>,
        {
            type Output = OMatrix<Dual<$t>, R1, C2>;
            fn mul(a: &Self, b: &OMatrix<$t, C1, C2>) -> Self::Output {
                let (re, eps) = split(a);
                join(&(re * b), &(eps * b))
            }
            /// ā += z̄·bᵀ, value and ε parts
            fn mul_vjp_a(_a: &Self, b: &OMatrix<$t, C1, C2>, z_bar: &Self::Output, a_bar: &mut Self) {
                let (re, eps) = split(z_bar);
                let bt = b.transpose();
                add_join(a_bar, &(re * &bt), &(eps * &bt));
            }
            /// b̄ += Re(aᵀ·z̄) (a constant's slot: never used)
            fn mul_vjp_b(a: &Self, _b: &OMatrix<$t, C1, C2>, z_bar: &Self::Output, b_bar: &mut OMatrix<$t, C1, C2>) {
                let (a, z) = (a.map(|d| d.re), z_bar.map(|d| d.re));
                b_bar.gemm(1.0, &a.transpose(), &z, 1.0);
            }
        }

        /// Float scalar · dual matrix.
        impl<R: Dim, C: Dim> MulRule<OMatrix<Dual<$t>, R, C>> for $t
        where
            DefaultAllocator: Allocator<R, C>,
        {
            type Output = OMatrix<Dual<$t>, R, C>;
            fn mul(a: &$t, b: &OMatrix<Dual<$t>, R, C>) -> Self::Output {
                b.map(|e| e * *a)
            }
            /// s̄ += Re⟨z̄, B⟩ (a constant's slot: never used)
            fn mul_vjp_a(_a: &$t, b: &OMatrix<Dual<$t>, R, C>, z_bar: &Self::Output, a_bar: &mut $t) {
                *a_bar += b.dot(z_bar).re;
            }
            /// B̄ += s·z̄
            fn mul_vjp_b(a: &$t, _b: &OMatrix<Dual<$t>, R, C>, z_bar: &Self::Output, b_bar: &mut OMatrix<Dual<$t>, R, C>) {
                add_scaled(b_bar, Dual::constant(*a), z_bar);
            }
        }

        /// Dual matrix · float scalar.
        impl<R: Dim, C: Dim> MulRule<$t> for OMatrix<Dual<$t>, R, C>
        where
            DefaultAllocator: Allocator<R, C>,
        {
            type Output = OMatrix<Dual<$t>, R, C>;
            fn mul(a: &Self, b: &$t) -> Self::Output {
                a.map(|e| e * *b)
            }
            /// Ā += s·z̄
            fn mul_vjp_a(_a: &Self, b: &$t, z_bar: &Self::Output, a_bar: &mut Self) {
                add_scaled(a_bar, Dual::constant(*b), z_bar);
            }
            /// s̄ += Re⟨z̄, A⟩ (a constant's slot: never used)
            fn mul_vjp_b(a: &Self, _b: &$t, z_bar: &Self::Output, b_bar: &mut $t) {
                *b_bar += a.dot(z_bar).re;
            }
        }

        /// Dual scalar · float matrix.
        impl<R: Dim, C: Dim> MulRule<OMatrix<$t, R, C>> for Dual<$t>
        where
            DefaultAllocator: Allocator<R, C>,
        {
            type Output = OMatrix<Dual<$t>, R, C>;
            fn mul(a: &Dual<$t>, b: &OMatrix<$t, R, C>) -> Self::Output {
                b.map(|e| *a * e)
            }
            /// s̄ += ⟨z̄, B⟩
            fn mul_vjp_a(_a: &Dual<$t>, b: &OMatrix<$t, R, C>, z_bar: &Self::Output, a_bar: &mut Dual<$t>) {
                let mut s = Dual::constant(0.0);
                for (z, b) in z_bar.as_slice().iter().zip(b.as_slice()) {
                    s += *z * *b;
                }
                *a_bar += s;
            }
            /// B̄ += Re(s·z̄) (a constant's slot: never used)
            fn mul_vjp_b(a: &Dual<$t>, _b: &OMatrix<$t, R, C>, z_bar: &Self::Output, b_bar: &mut OMatrix<$t, R, C>) {
                for (bb, z) in b_bar.as_mut_slice().iter_mut().zip(z_bar.as_slice()) {
                    *bb += a.re * z.re;
                }
            }
        }

        /// Float matrix · dual scalar.
        impl<R: Dim, C: Dim> MulRule<Dual<$t>> for OMatrix<$t, R, C>
        where
            DefaultAllocator: Allocator<R, C>,
        {
            type Output = OMatrix<Dual<$t>, R, C>;
            fn mul(a: &Self, b: &Dual<$t>) -> Self::Output {
                a.map(|e| *b * e)
            }
            /// Ā += Re(s·z̄) (a constant's slot: never used)
            fn mul_vjp_a(_a: &Self, b: &Dual<$t>, z_bar: &Self::Output, a_bar: &mut Self) {
                for (ab, z) in a_bar.as_mut_slice().iter_mut().zip(z_bar.as_slice()) {
                    *ab += b.re * z.re;
                }
            }
            /// s̄ += ⟨z̄, A⟩
            fn mul_vjp_b(a: &Self, _b: &Dual<$t>, z_bar: &Self::Output, b_bar: &mut Dual<$t>) {
                let mut s = Dual::constant(0.0);
                for (z, a) in z_bar.as_slice().iter().zip(a.as_slice()) {
                    s += *z * *a;
                }
                *b_bar += s;
            }
        }

        /// Dual matrix / float scalar.
        impl<R: Dim, C: Dim> DivRule<$t> for OMatrix<Dual<$t>, R, C>
        where
            DefaultAllocator: Allocator<R, C>,
        {
            type Output = OMatrix<Dual<$t>, R, C>;
            fn div(a: &Self, b: &$t) -> Self::Output {
                a.map(|e| e / *b)
            }
            /// Ā += z̄/s
            fn div_vjp_a(_a: &Self, b: &$t, z_bar: &Self::Output, a_bar: &mut Self) {
                add_scaled(a_bar, Dual::constant(1.0 / *b), z_bar);
            }
            /// s̄ −= Re⟨z̄, A⟩/s² (a constant's slot: never used)
            fn div_vjp_b(a: &Self, b: &$t, z_bar: &Self::Output, b_bar: &mut $t) {
                *b_bar -= a.dot(z_bar).re / (b * b);
            }
        }

        /// Float matrix / dual scalar.
        impl<R: Dim, C: Dim> DivRule<Dual<$t>> for OMatrix<$t, R, C>
        where
            DefaultAllocator: Allocator<R, C>,
        {
            type Output = OMatrix<Dual<$t>, R, C>;
            fn div(a: &Self, b: &Dual<$t>) -> Self::Output {
                a.map(|e| Dual::constant(e) / *b)
            }
            /// Ā += Re(z̄/s) (a constant's slot: never used)
            fn div_vjp_a(_a: &Self, b: &Dual<$t>, z_bar: &Self::Output, a_bar: &mut Self) {
                for (ab, z) in a_bar.as_mut_slice().iter_mut().zip(z_bar.as_slice()) {
                    *ab += z.re / b.re;
                }
            }
            /// s̄ −= ⟨z̄, A⟩/s²
            fn div_vjp_b(a: &Self, b: &Dual<$t>, z_bar: &Self::Output, b_bar: &mut Dual<$t>) {
                let mut s = Dual::constant(0.0);
                for (z, a) in z_bar.as_slice().iter().zip(a.as_slice()) {
                    s += *z * *a;
                }
                *b_bar -= s / (*b * *b);
            }
        }
    )*};
}
mixed_rules!(f32, f64);
