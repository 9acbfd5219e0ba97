//! Derivative rules of the scalar elementary functions, the table `#[differentiable]` emits calls to.
//!
//! Each function of one or two real arguments is given by its local partial derivatives, written next to
//! the primal formula. The same partial serves both modes: the tangent (JVP) is `ż = ∂z/∂x · ẋ`, the
//! cotangent (VJP) is `x̄ += z̄ · ∂z/∂x`, so the two modes cannot disagree. Linear operations
//! (`+`, `-`, negation, copies) and `*`, `/` are emitted inline by the macro and need no table entry.
//!
//! `abs`, `max`, `min` are differentiable almost everywhere; at the kink they take the derivative of the
//! branch the primal took (`abs'(0) = 1`, `max(a, a)` sends the derivative to `a`).

/// A real scalar type the rules are written for: `f32` and `f64`.
pub trait Real:
    Copy
    + PartialOrd
    + core::fmt::Debug
    + core::ops::Add<Output = Self>
    + core::ops::Sub<Output = Self>
    + core::ops::Mul<Output = Self>
    + core::ops::Div<Output = Self>
    + core::ops::Neg<Output = Self>
    + core::ops::AddAssign
{
    /// The additive identity.
    const ZERO: Self;
    /// The multiplicative identity.
    const ONE: Self;
    /// Conversion from `f64` (rounding for `f32`).
    fn from_f64(x: f64) -> Self;
    /// Conversion to `f64`.
    fn to_f64(self) -> f64;
    #[doc(hidden)]
    fn __sqrt(self) -> Self;
    #[doc(hidden)]
    fn __sin(self) -> Self;
    #[doc(hidden)]
    fn __cos(self) -> Self;
    #[doc(hidden)]
    fn __cosh(self) -> Self;
    #[doc(hidden)]
    fn __sinh(self) -> Self;
    #[doc(hidden)]
    fn __exp(self) -> Self;
    #[doc(hidden)]
    fn __ln(self) -> Self;
    #[doc(hidden)]
    fn __powi(self, n: i32) -> Self;
    #[doc(hidden)]
    fn __powf(self, y: Self) -> Self;
    #[doc(hidden)]
    fn __hypot(self, y: Self) -> Self;
    #[doc(hidden)]
    fn __is_nan(self) -> bool;
}

macro_rules! impl_real {
    ($t:ident) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn __sqrt(self) -> Self {
                self.sqrt()
            }
            #[inline(always)]
            fn __sin(self) -> Self {
                self.sin()
            }
            #[inline(always)]
            fn __cos(self) -> Self {
                self.cos()
            }
            #[inline(always)]
            fn __cosh(self) -> Self {
                self.cosh()
            }
            #[inline(always)]
            fn __sinh(self) -> Self {
                self.sinh()
            }
            #[inline(always)]
            fn __exp(self) -> Self {
                self.exp()
            }
            #[inline(always)]
            fn __ln(self) -> Self {
                self.ln()
            }
            #[inline(always)]
            fn __powi(self, n: i32) -> Self {
                self.powi(n)
            }
            #[inline(always)]
            fn __powf(self, y: Self) -> Self {
                self.powf(y)
            }
            #[inline(always)]
            fn __hypot(self, y: Self) -> Self {
                self.hypot(y)
            }
            #[inline(always)]
            fn __is_nan(self) -> bool {
                self.is_nan()
            }
        }
    };
}
impl_real!(f32);
impl_real!(f64);

#[inline(always)]
fn c<T: Real>(x: f64) -> T {
    T::from_f64(x)
}

/// z = sin x ⇒ ∂z/∂x = cos x
#[inline(always)]
pub fn d_sin<T: Real>(x: T, _z: T) -> T {
    x.__cos()
}
/// z = cos x ⇒ ∂z/∂x = −sin x
#[inline(always)]
pub fn d_cos<T: Real>(x: T, _z: T) -> T {
    -x.__sin()
}
/// z = tan x ⇒ ∂z/∂x = 1 + z²
#[inline(always)]
pub fn d_tan<T: Real>(_x: T, z: T) -> T {
    T::ONE + z * z
}
/// z = asin x ⇒ ∂z/∂x = 1/√(1 − x²)
#[inline(always)]
pub fn d_asin<T: Real>(x: T, _z: T) -> T {
    T::ONE / (T::ONE - x * x).__sqrt()
}
/// z = acos x ⇒ ∂z/∂x = −1/√(1 − x²)
#[inline(always)]
pub fn d_acos<T: Real>(x: T, _z: T) -> T {
    -T::ONE / (T::ONE - x * x).__sqrt()
}
/// z = atan x ⇒ ∂z/∂x = 1/(1 + x²)
#[inline(always)]
pub fn d_atan<T: Real>(x: T, _z: T) -> T {
    T::ONE / (T::ONE + x * x)
}
/// z = sinh x ⇒ ∂z/∂x = cosh x
#[inline(always)]
pub fn d_sinh<T: Real>(x: T, _z: T) -> T {
    x.__cosh()
}
/// z = cosh x ⇒ ∂z/∂x = sinh x
#[inline(always)]
pub fn d_cosh<T: Real>(x: T, _z: T) -> T {
    x.__sinh()
}
/// z = tanh x ⇒ ∂z/∂x = 1 − z²
#[inline(always)]
pub fn d_tanh<T: Real>(_x: T, z: T) -> T {
    T::ONE - z * z
}
/// z = asinh x ⇒ ∂z/∂x = 1/√(x² + 1)
#[inline(always)]
pub fn d_asinh<T: Real>(x: T, _z: T) -> T {
    T::ONE / (x * x + T::ONE).__sqrt()
}
/// z = acosh x ⇒ ∂z/∂x = 1/√(x² − 1)
#[inline(always)]
pub fn d_acosh<T: Real>(x: T, _z: T) -> T {
    T::ONE / (x * x - T::ONE).__sqrt()
}
/// z = atanh x ⇒ ∂z/∂x = 1/(1 − x²)
#[inline(always)]
pub fn d_atanh<T: Real>(x: T, _z: T) -> T {
    T::ONE / (T::ONE - x * x)
}
/// z = eˣ ⇒ ∂z/∂x = z
#[inline(always)]
pub fn d_exp<T: Real>(_x: T, z: T) -> T {
    z
}
/// z = 2ˣ ⇒ ∂z/∂x = z · ln 2
#[inline(always)]
pub fn d_exp2<T: Real>(_x: T, z: T) -> T {
    z * c(core::f64::consts::LN_2)
}
/// z = eˣ − 1 ⇒ ∂z/∂x = z + 1
#[inline(always)]
pub fn d_exp_m1<T: Real>(_x: T, z: T) -> T {
    z + T::ONE
}
/// z = ln x ⇒ ∂z/∂x = 1/x
#[inline(always)]
pub fn d_ln<T: Real>(x: T, _z: T) -> T {
    T::ONE / x
}
/// z = ln(1 + x) ⇒ ∂z/∂x = 1/(1 + x)
#[inline(always)]
pub fn d_ln_1p<T: Real>(x: T, _z: T) -> T {
    T::ONE / (T::ONE + x)
}
/// z = log₂ x ⇒ ∂z/∂x = 1/(x ln 2)
#[inline(always)]
pub fn d_log2<T: Real>(x: T, _z: T) -> T {
    T::ONE / (x * c(core::f64::consts::LN_2))
}
/// z = log₁₀ x ⇒ ∂z/∂x = 1/(x ln 10)
#[inline(always)]
pub fn d_log10<T: Real>(x: T, _z: T) -> T {
    T::ONE / (x * c(core::f64::consts::LN_10))
}
/// z = √x ⇒ ∂z/∂x = 1/(2z)
#[inline(always)]
pub fn d_sqrt<T: Real>(_x: T, z: T) -> T {
    T::ONE / (z + z)
}
/// z = ∛x ⇒ ∂z/∂x = 1/(3z²)
#[inline(always)]
pub fn d_cbrt<T: Real>(_x: T, z: T) -> T {
    T::ONE / (c::<T>(3.0) * z * z)
}
/// z = 1/x ⇒ ∂z/∂x = −z²
#[inline(always)]
pub fn d_recip<T: Real>(_x: T, z: T) -> T {
    -(z * z)
}
/// z = |x| ⇒ ∂z/∂x = sign x (1 at 0)
#[inline(always)]
pub fn d_abs<T: Real>(x: T, _z: T) -> T {
    if x < T::ZERO {
        -T::ONE
    } else {
        T::ONE
    }
}
/// z = xⁿ (integer n) ⇒ ∂z/∂x = n xⁿ⁻¹
#[inline(always)]
pub fn d_powi<T: Real>(x: T, n: i32) -> T {
    if n == 0 {
        T::ZERO
    } else {
        c::<T>(n as f64) * x.__powi(n - 1)
    }
}
/// z = xʸ ⇒ ∂z/∂x = y xʸ⁻¹
#[inline(always)]
pub fn d_powf_x<T: Real>(x: T, y: T) -> T {
    if y == T::ZERO {
        T::ZERO
    } else {
        y * x.__powf(y - T::ONE)
    }
}
/// z = xʸ ⇒ ∂z/∂y = z ln x (0 where z = 0)
#[inline(always)]
pub fn d_powf_y<T: Real>(x: T, z: T) -> T {
    if z == T::ZERO {
        T::ZERO
    } else {
        z * x.__ln()
    }
}
/// z = atan2(y, x) ⇒ ∂z/∂y = x/(x² + y²)
#[inline(always)]
pub fn d_atan2_y<T: Real>(y: T, x: T) -> T {
    x / (x * x + y * y)
}
/// z = atan2(y, x) ⇒ ∂z/∂x = −y/(x² + y²)
#[inline(always)]
pub fn d_atan2_x<T: Real>(y: T, x: T) -> T {
    -y / (x * x + y * y)
}
/// z = hypot(x, y) ⇒ ∂z/∂x = x/z (0 at the origin)
#[inline(always)]
pub fn d_hypot_x<T: Real>(x: T, z: T) -> T {
    if z == T::ZERO {
        T::ZERO
    } else {
        x / z
    }
}
/// z = max(a, b) ⇒ ∂z/∂a = 1 if a ≥ b (ties go to `a`), else 0; like `f64::max`, a NaN loses
#[inline(always)]
pub fn d_max_a<T: Real>(a: T, b: T) -> T {
    if !a.__is_nan() && (a >= b || b.__is_nan()) {
        T::ONE
    } else {
        T::ZERO
    }
}
/// z = min(a, b) ⇒ ∂z/∂a = 1 if a ≤ b (ties go to `a`), else 0; like `f64::min`, a NaN loses
#[inline(always)]
pub fn d_min_a<T: Real>(a: T, b: T) -> T {
    if !a.__is_nan() && (a <= b || b.__is_nan()) {
        T::ONE
    } else {
        T::ZERO
    }
}

/// The value converted to the scalar type of `_like` (a float `as` cast, for cotangents flowing back
/// through `x as f64` to an `f32` `x`).
#[inline(always)]
pub fn cast_like<S: Real, D: Real>(v: D, _like: S) -> S {
    S::from_f64(v.to_f64())
}

/// The `k`-th element of an iterator that is cheap to clone and to index (ranges, `rev`, `step_by`): how
/// the reverse sweep replays a `for` loop backwards.
#[inline(always)]
pub fn nth<I: Iterator + Clone>(iter: &I, k: usize) -> I::Item {
    match iter.clone().nth(k) {
        Some(item) => item,
        None => unreachable!("adjoint: loop replay past the recorded trip count"),
    }
}

/// Pops the value the forward sweep pushed; a mismatch is a bug in the transformation.
#[inline(always)]
pub fn pop<T>(tape: &mut Vec<T>) -> T {
    match tape.pop() {
        Some(v) => v,
        None => unreachable!("adjoint: tape underflow"),
    }
}

/// Undoes the indexed writes logged since `mark`, newest first, restoring `a` to its state at `mark`.
#[inline]
pub fn undo_writes<A, I, T>(a: &mut A, log: &mut Vec<(I, T)>, mark: usize)
where
    A: core::ops::IndexMut<I, Output = T> + ?Sized,
{
    while log.len() > mark {
        let (i, old) = pop(log);
        a[i] = old;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fd(f: impl Fn(f64) -> f64, x: f64) -> f64 {
        let h = 1e-6 * x.abs().max(1.0);
        (f(x + h) - f(x - h)) / (2.0 * h)
    }

    #[test]
    fn unary_partials_match_finite_differences() {
        type Rule = (&'static str, fn(f64) -> f64, fn(f64, f64) -> f64, f64);
        let table: [Rule; 23] = [
            ("sin", f64::sin, d_sin, 0.7),
            ("cos", f64::cos, d_cos, 0.7),
            ("tan", f64::tan, d_tan, 0.7),
            ("asin", f64::asin, d_asin, 0.3),
            ("acos", f64::acos, d_acos, 0.3),
            ("atan", f64::atan, d_atan, 1.7),
            ("sinh", f64::sinh, d_sinh, 0.7),
            ("cosh", f64::cosh, d_cosh, 0.7),
            ("tanh", f64::tanh, d_tanh, 0.7),
            ("asinh", f64::asinh, d_asinh, 0.7),
            ("acosh", f64::acosh, d_acosh, 1.7),
            ("atanh", f64::atanh, d_atanh, 0.3),
            ("exp", f64::exp, d_exp, 0.7),
            ("exp2", f64::exp2, d_exp2, 0.7),
            ("exp_m1", f64::exp_m1, d_exp_m1, 0.7),
            ("ln", f64::ln, d_ln, 0.7),
            ("ln_1p", f64::ln_1p, d_ln_1p, 0.7),
            ("log2", f64::log2, d_log2, 0.7),
            ("log10", f64::log10, d_log10, 0.7),
            ("sqrt", f64::sqrt, d_sqrt, 0.7),
            ("cbrt", f64::cbrt, d_cbrt, 0.7),
            ("recip", f64::recip, d_recip, 0.7),
            ("abs", f64::abs, d_abs, -0.7),
        ];
        for (name, f, d, x) in table {
            let (exact, numeric) = (d(x, f(x)), fd(f, x));
            assert!((exact - numeric).abs() < 1e-7, "{name}: {exact} vs {numeric}");
        }
    }

    #[test]
    fn binary_partials_match_finite_differences() {
        let (x, y) = (1.3, 0.6);
        assert!((d_powf_x(x, y) - fd(|x| x.powf(y), x)).abs() < 1e-7);
        assert!((d_powf_y(x, x.powf(y)) - fd(|y| x.powf(y), y)).abs() < 1e-7);
        assert!((d_atan2_y(y, x) - fd(|y| y.atan2(x), y)).abs() < 1e-7);
        assert!((d_atan2_x(y, x) - fd(|x| y.atan2(x), x)).abs() < 1e-7);
        assert!((d_hypot_x(x, x.hypot(y)) - fd(|x| x.hypot(y), x)).abs() < 1e-7);
        assert!((d_powi(x, 3) - fd(|x| x.powi(3), x)).abs() < 1e-7);
        assert_eq!((d_max_a(2.0, 1.0), d_max_a(1.0, 2.0)), (1.0, 0.0));
        assert_eq!((d_min_a(2.0, 1.0), d_min_a(1.0, 2.0)), (0.0, 1.0));
    }

    #[test]
    fn replay_and_undo() {
        let it = (3..20).rev().step_by(4);
        let forward: Vec<usize> = it.clone().collect();
        let replayed: Vec<usize> = (0..forward.len()).map(|k| nth(&it, k)).collect();
        assert_eq!(forward, replayed);
        let mut a = [1.0, 2.0, 3.0];
        let mut log = Vec::new();
        for (i, v) in [(0, 5.0), (2, 6.0), (0, 7.0)] {
            log.push((i, a[i]));
            a[i] = v;
        }
        undo_writes(&mut a, &mut log, 2);
        assert_eq!(a, [5.0, 2.0, 6.0]);
        undo_writes(&mut a, &mut log, 0);
        assert_eq!(a, [1.0, 2.0, 3.0]);
    }
}
