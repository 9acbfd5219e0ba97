//! Flat views of functions over nalgebra values, for the checks in `common`.
//!
//! The active parameters of a generated function (scalars, vectors, matrices, of `f32` or `f64`) are
//! concatenated, column-major, into one `&[f64]`; [`flat_view!`] builds the [`common::Scalar`] view of
//! `f`, `f_grad`, `f_jvp`, `f_grad_into` and `f_vjp` from the names and shapes of the parameters, so a
//! test can run `common::check_all` on it.
#![allow(dead_code, unused_macros, clippy::type_complexity)]

use nalgebra::allocator::Allocator;
use nalgebra::{DMatrix, DefaultAllocator, Dim, OMatrix};
use rand::{rngs::StdRng, Rng};

/// The element types: `f32` and `f64`, read from and written to the flat `f64` view.
pub trait El: nalgebra::Scalar + Copy {
    fn of(x: f64) -> Self;
    fn f(self) -> f64;
}
impl El for f64 {
    fn of(x: f64) -> Self {
        x
    }
    fn f(self) -> f64 {
        self
    }
}
impl El for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
    fn f(self) -> f64 {
        self as f64
    }
}

/// A value that is a block of the flat view.
pub trait Flat: Clone {
    /// `()` for scalars, `(rows, columns)` for matrices and vectors.
    type Shape: Copy;
    /// Reads the value of the given shape at `*at`, advancing `*at`.
    fn read(shape: Self::Shape, x: &[f64], at: &mut usize) -> Self;
    /// Appends the value to `out`.
    fn write(&self, out: &mut Vec<f64>);
}

impl Flat for f64 {
    type Shape = ();
    fn read(_: (), x: &[f64], at: &mut usize) -> Self {
        *at += 1;
        x[*at - 1]
    }
    fn write(&self, out: &mut Vec<f64>) {
        out.push(*self);
    }
}

impl Flat for f32 {
    type Shape = ();
    fn read(_: (), x: &[f64], at: &mut usize) -> Self {
        *at += 1;
        x[*at - 1] as f32
    }
    fn write(&self, out: &mut Vec<f64>) {
        out.push(*self as f64);
    }
}

impl<T: El, R: Dim, C: Dim> Flat for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Shape = (usize, usize);
    fn read((r, c): (usize, usize), x: &[f64], at: &mut usize) -> Self {
        let n = r * c;
        let m = OMatrix::from_iterator_generic(
            R::from_usize(r),
            C::from_usize(c),
            x[*at..*at + n].iter().map(|&v| T::of(v)),
        );
        *at += n;
        m
    }
    fn write(&self, out: &mut Vec<f64>) {
        out.extend(self.iter().map(|v| v.f()));
    }
}

impl<A: Flat, B: Flat> Flat for (A, B) {
    type Shape = (A::Shape, B::Shape);
    fn read((sa, sb): Self::Shape, x: &[f64], at: &mut usize) -> Self {
        let a = A::read(sa, x, at);
        (a, B::read(sb, x, at))
    }
    fn write(&self, out: &mut Vec<f64>) {
        self.0.write(out);
        self.1.write(out);
    }
}

/// Passes a value the way the generated functions take it: `ref` by reference, `val` by value.
macro_rules! pass {
    (ref, $e:expr) => {
        &$e
    };
    (val, $e:expr) => {
        ::core::clone::Clone::clone(&$e)
    };
}

/// The [`common::Scalar`] view of a function over nalgebra values (f32 or f64):
///
/// `flat_view!(f, f_grad, f_jvp, f_grad_into, f_vjp; [a, a_dot, a_bar: DMatrix<f64> = (2, 3), ref;
/// s, s_dot, s_bar: f64 = (), val]; [&w, n])` describes `fn f(a: &DMatrix<f64>, s: f64, w: &.., n: usize)`
/// differentiated with respect to `a` and `s` (the active parameters come first, in order, followed by
/// the constants): each active parameter with the names the adapter gives its primal, tangent and
/// cotangent, its type, its shape (`()` for scalars) and how it is passed. The flat layout is the active
/// parameters in order, each column-major.
macro_rules! flat_view {
    (
        $f:ident, $grad:ident, $jvp:ident, $into:ident, $vjp:ident;
        [$($a:ident, $ad:ident, $ab:ident : $ty:ty = $sh:expr, $mode:ident);+ $(;)?];
        [$($c:expr),* $(,)?]
    ) => {
        $crate::common::Scalar {
            f: &|x: &[f64]| {
                let mut at = 0usize;
                $(let $a = <$ty as $crate::linalg_common::Flat>::read($sh, x, &mut at);)+
                assert_eq!(at, x.len(), "flat view: input length");
                $crate::linalg_common::El::f($f($(pass!($mode, $a)),+ $(, $c)*))
            },
            grad: &|x: &[f64]| {
                let mut at = 0usize;
                $(let $a = <$ty as $crate::linalg_common::Flat>::read($sh, x, &mut at);)+
                let (value, grads) = $grad($(pass!($mode, $a)),+ $(, $c)*);
                let mut out = Vec::new();
                flat_view!(@write grads, out; $($ab),+);
                ($crate::linalg_common::El::f(value), out)
            },
            jvp: &|x: &[f64], v: &[f64]| {
                let (mut at, mut at_v) = (0usize, 0usize);
                $(
                    let $a = <$ty as $crate::linalg_common::Flat>::read($sh, x, &mut at);
                    let $ad = <$ty as $crate::linalg_common::Flat>::read($sh, v, &mut at_v);
                )+
                let (value, slope) = $jvp($(pass!($mode, $a), pass!($mode, $ad)),+ $(, $c)*);
                ($crate::linalg_common::El::f(value), $crate::linalg_common::El::f(slope))
            },
            grad_into: &|x: &[f64], g: &mut [f64]| {
                let (mut at, mut at_g) = (0usize, 0usize);
                $(
                    let $a = <$ty as $crate::linalg_common::Flat>::read($sh, x, &mut at);
                    let mut $ab = <$ty as $crate::linalg_common::Flat>::read($sh, g, &mut at_g);
                )+
                let value = $into($(pass!($mode, $a)),+ $(, $c)*, $(&mut $ab),+);
                let mut out = Vec::new();
                $($crate::linalg_common::Flat::write(&$ab, &mut out);)+
                g.copy_from_slice(&out);
                $crate::linalg_common::El::f(value)
            },
            vjp: &|x: &[f64], z: f64, g: &mut [f64]| {
                let (mut at, mut at_g) = (0usize, 0usize);
                $(
                    let $a = <$ty as $crate::linalg_common::Flat>::read($sh, x, &mut at);
                    let mut $ab = <$ty as $crate::linalg_common::Flat>::read($sh, g, &mut at_g);
                )+
                let value = $vjp($(pass!($mode, $a)),+ $(, $c)*, $crate::linalg_common::El::of(z), $(&mut $ab),+);
                let mut out = Vec::new();
                $($crate::linalg_common::Flat::write(&$ab, &mut out);)+
                g.copy_from_slice(&out);
                $crate::linalg_common::El::f(value)
            },
        }
    };
    // One active parameter: `f_grad` returns its gradient itself; several: a tuple of them.
    (@write $g:ident, $out:ident; $one:ident) => {
        $crate::linalg_common::Flat::write(&$g, &mut $out);
    };
    (@write $g:ident, $out:ident; $($many:ident),+) => {
        let ($($many),+) = $g;
        $($crate::linalg_common::Flat::write(&$many, &mut $out);)+
    };
}

/// The [`common::Vector`] view of a function returning a matrix, a vector or a tuple of them:
///
/// `flat_vector_view!(f, f_jvp, f_vjp; [a, a_dot, a_bar: DMatrix<f64> = (2, 3), ref]; [&w] -> DMatrix<f64> = (3, 2))`
/// takes the active parameters and constants as [`flat_view!`] does, then the result's type and shape;
/// the result is flattened column-major (a tuple's parts one after the other).
macro_rules! flat_vector_view {
    (
        $f:ident, $jvp:ident, $vjp:ident;
        [$($a:ident, $ad:ident, $ab:ident : $ty:ty = $sh:expr, $mode:ident);+ $(;)?];
        [$($c:expr),* $(,)?] -> $out:ty = $osh:expr
    ) => {
        $crate::common::Vector {
            f: &|x: &[f64]| {
                let mut at = 0usize;
                $(let $a = <$ty as $crate::linalg_common::Flat>::read($sh, x, &mut at);)+
                assert_eq!(at, x.len(), "flat view: input length");
                let y: $out = $f($(pass!($mode, $a)),+ $(, $c)*);
                let mut out = Vec::new();
                $crate::linalg_common::Flat::write(&y, &mut out);
                out
            },
            jvp: &|x: &[f64], v: &[f64]| {
                let (mut at, mut at_v) = (0usize, 0usize);
                $(
                    let $a = <$ty as $crate::linalg_common::Flat>::read($sh, x, &mut at);
                    let $ad = <$ty as $crate::linalg_common::Flat>::read($sh, v, &mut at_v);
                )+
                let (y, y_dot): ($out, $out) = $jvp($(pass!($mode, $a), pass!($mode, $ad)),+ $(, $c)*);
                let (mut out, mut out_dot) = (Vec::new(), Vec::new());
                $crate::linalg_common::Flat::write(&y, &mut out);
                $crate::linalg_common::Flat::write(&y_dot, &mut out_dot);
                (out, out_dot)
            },
            vjp: &|x: &[f64], w: &[f64], g: &mut [f64]| {
                let (mut at, mut at_g) = (0usize, 0usize);
                $(
                    let $a = <$ty as $crate::linalg_common::Flat>::read($sh, x, &mut at);
                    let mut $ab = <$ty as $crate::linalg_common::Flat>::read($sh, g, &mut at_g);
                )+
                let z_bar = <$out as $crate::linalg_common::Flat>::read($osh, w, &mut 0);
                let y: $out = $vjp($(pass!($mode, $a)),+ $(, $c)*, z_bar, $(&mut $ab),+);
                let mut out = Vec::new();
                $($crate::linalg_common::Flat::write(&$ab, &mut out);)+
                g.copy_from_slice(&out);
                let mut value = Vec::new();
                $crate::linalg_common::Flat::write(&y, &mut value);
                value
            },
        }
    };
}

/// A random matrix of any shape with entries uniform in `lo..hi`.
pub fn rand_mat<T: El, R: Dim, C: Dim>(r: &mut StdRng, rows: R, cols: C, lo: f64, hi: f64) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    OMatrix::from_fn_generic(rows, cols, |_, _| T::of(r.gen_range(lo..hi)))
}

/// A random `DMatrix<f64>` with entries in `-1..1`.
pub fn dmat(r: &mut StdRng, rows: usize, cols: usize) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| r.gen_range(-1.0..1.0))
}

/// Concatenates the flat views of several values.
pub fn flatten(parts: &[&dyn FlatDyn]) -> Vec<f64> {
    let mut out = Vec::new();
    for p in parts {
        p.write_dyn(&mut out);
    }
    out
}

/// Object-safe [`Flat::write`].
pub trait FlatDyn {
    fn write_dyn(&self, out: &mut Vec<f64>);
}
impl<T: Flat> FlatDyn for T {
    fn write_dyn(&self, out: &mut Vec<f64>) {
        self.write(out);
    }
}
