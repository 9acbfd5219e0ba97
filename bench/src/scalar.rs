//! [`Scalar`]: the number type the peers' versions of the problems are generic over, implemented for
//! `f64` (to check the generic version against ours), `num-dual`'s `Dual64` and `HyperDual64`, and
//! `reverse`'s tape variable `Var`.
//!
//! Each problem is written once as a `#[differentiable]` function on `f64`; the peers need their own
//! number type in the same code, so each problem also has one generic twin over `Scalar`, which is the
//! same algorithm statement for statement (checked: its `f64` instance gives the same value).

use std::ops::{Add, Div, Mul, Neg, Sub};

use num_dual::{Dual64, DualNum, HyperDual64};
use reverse::Var;

/// A real number type with the operations the problems use.
pub trait Scalar:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Add<f64, Output = Self>
    + Sub<f64, Output = Self>
    + Mul<f64, Output = Self>
    + Div<f64, Output = Self>
{
    /// The real part (the primal value).
    fn value(self) -> f64;
    /// The constant `c` in the same context as `self` (for a tape variable: on the same tape).
    fn constant_like(self, c: f64) -> Self;
    /// `eˣ`.
    fn exp(self) -> Self;
    /// `ln x`.
    fn ln(self) -> Self;
    /// `ln(1 + x)`.
    fn ln_1p(self) -> Self;
    /// `tanh x`.
    fn tanh(self) -> Self;
}

impl Scalar for f64 {
    fn value(self) -> f64 {
        self
    }
    fn constant_like(self, c: f64) -> Self {
        c
    }
    fn exp(self) -> Self {
        f64::exp(self)
    }
    fn ln(self) -> Self {
        f64::ln(self)
    }
    fn ln_1p(self) -> Self {
        f64::ln_1p(self)
    }
    fn tanh(self) -> Self {
        f64::tanh(self)
    }
}

/// Implements [`Scalar`] for a `num-dual` type through its `DualNum` methods.
macro_rules! scalar_for_dual {
    ($t:ty) => {
        impl Scalar for $t {
            fn value(self) -> f64 {
                self.re
            }
            fn constant_like(self, c: f64) -> Self {
                <$t>::from(c)
            }
            fn exp(self) -> Self {
                DualNum::exp(&self)
            }
            fn ln(self) -> Self {
                DualNum::ln(&self)
            }
            fn ln_1p(self) -> Self {
                DualNum::ln_1p(&self)
            }
            fn tanh(self) -> Self {
                DualNum::tanh(&self)
            }
        }
    };
}
scalar_for_dual!(Dual64);
scalar_for_dual!(HyperDual64);

impl<'a> Scalar for Var<'a> {
    fn value(self) -> f64 {
        self.val
    }
    fn constant_like(self, c: f64) -> Self {
        self.tape.add_var(c)
    }
    fn exp(self) -> Self {
        Var::exp(&self)
    }
    fn ln(self) -> Self {
        Var::ln(&self)
    }
    fn ln_1p(self) -> Self {
        Var::ln_1p(&self)
    }
    fn tanh(self) -> Self {
        Var::tanh(&self)
    }
}

/// `ln(1 + eᶻ)` without overflow, branching on the value as hand-written code does.
pub fn softplus<T: Scalar>(z: T) -> T {
    if z.value() > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}
