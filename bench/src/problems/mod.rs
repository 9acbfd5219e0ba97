//! The problems of the suite, one module each. Every module has the problem written once as an
//! ordinary `#[differentiable]` function (what a user of `adjoint` writes), a hand-written gradient,
//! and a generic twin over [`Scalar`](crate::scalar::Scalar) for the peers.

pub mod gmm;
pub mod logreg;
pub mod mlp;
pub mod ode;
pub mod rosenbrock;
