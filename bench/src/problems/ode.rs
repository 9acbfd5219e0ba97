//! An ODE-integration loss: the Lotka–Volterra system `u' = a·u − b·u·v`, `v' = −c·v + d·u·v`
//! integrated by classical RK4 for 1000 steps of h = 0.01, the squared error against observations after
//! every step. All six parameters (a, b, c, d, u₀, v₀) are active; the state is a loop-carried
//! variable overwritten at every step.

use adjoint::differentiable;

use crate::scalar::Scalar;

/// Steps of the integration.
pub const STEPS: usize = 1000;
/// Step length.
pub const H: f64 = 0.01;
/// The parameters the observations are made with: a, b, c, d, u₀, v₀.
pub const TRUE_PARAMS: [f64; 6] = [1.5, 1.0, 3.0, 1.0, 1.0, 1.0];
/// The parameters the loss and gradients are evaluated at.
pub const EVAL_PARAMS: [f64; 6] = [1.4, 0.9, 3.1, 1.1, 0.9, 1.1];

/// The loss (ours); `obs` holds (u, v) after each step.
#[differentiable(wrt(p))]
pub fn ode_loss(p: &[f64], obs: &[f64], h: f64) -> f64 {
    let a = p[0];
    let b = p[1];
    let c = p[2];
    let d = p[3];
    let mut u = p[4];
    let mut v = p[5];
    let mut loss = 0.0;
    for s in 0..obs.len() / 2 {
        let k1u = a * u - b * u * v;
        let k1v = d * u * v - c * v;
        let u2 = u + 0.5 * h * k1u;
        let v2 = v + 0.5 * h * k1v;
        let k2u = a * u2 - b * u2 * v2;
        let k2v = d * u2 * v2 - c * v2;
        let u3 = u + 0.5 * h * k2u;
        let v3 = v + 0.5 * h * k2v;
        let k3u = a * u3 - b * u3 * v3;
        let k3v = d * u3 * v3 - c * v3;
        let u4 = u + h * k3u;
        let v4 = v + h * k3v;
        let k4u = a * u4 - b * u4 * v4;
        let k4v = d * u4 * v4 - c * v4;
        u += h / 6.0 * (k1u + 2.0 * k2u + 2.0 * k3u + k4u);
        v += h / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v);
        let eu = u - obs[2 * s];
        let ev = v - obs[2 * s + 1];
        loss += eu * eu + ev * ev;
    }
    loss
}

/// Observations: the trajectory at [`TRUE_PARAMS`] plus a deterministic perturbation of 1%.
pub fn observations() -> Vec<f64> {
    let [a, b, c, d, mut u, mut v] = TRUE_PARAMS;
    let mut obs = Vec::with_capacity(2 * STEPS);
    for s in 0..STEPS {
        let f = |u: f64, v: f64| (a * u - b * u * v, d * u * v - c * v);
        let (k1u, k1v) = f(u, v);
        let (k2u, k2v) = f(u + 0.5 * H * k1u, v + 0.5 * H * k1v);
        let (k3u, k3v) = f(u + 0.5 * H * k2u, v + 0.5 * H * k2v);
        let (k4u, k4v) = f(u + H * k3u, v + H * k3v);
        u += H / 6.0 * (k1u + 2.0 * k2u + 2.0 * k3u + k4u);
        v += H / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v);
        let t = s as f64;
        obs.push(u * (1.0 + 0.01 * (0.7 * t).sin()));
        obs.push(v * (1.0 + 0.01 * (1.3 * t).cos()));
    }
    obs
}

/// Right-hand side at (u, v) with parameters (a, b, c, d).
#[inline]
fn rhs(q: &[f64; 4], u: f64, v: f64) -> (f64, f64) {
    (q[0] * u - q[1] * u * v, q[3] * u * v - q[2] * v)
}

/// Adds `(ku_bar, kv_bar)ᵀ · ∂rhs/∂(u, v, q)` at (u, v): into `(u_bar, v_bar)` and `q_bar`.
#[inline]
fn rhs_vjp(q: &[f64; 4], u: f64, v: f64, ku_bar: f64, kv_bar: f64, q_bar: &mut [f64; 4]) -> (f64, f64) {
    q_bar[0] += ku_bar * u;
    q_bar[1] -= ku_bar * u * v;
    q_bar[2] -= kv_bar * v;
    q_bar[3] += kv_bar * u * v;
    let u_bar = ku_bar * (q[0] - q[1] * v) + kv_bar * q[3] * v;
    let v_bar = -ku_bar * q[1] * u + kv_bar * (q[3] * u - q[2]);
    (u_bar, v_bar)
}

/// Hand-written adjoint (discrete adjoint of RK4): a forward pass storing the state before every step,
/// then a backward pass that recomputes each step's stages and runs their adjoints in reverse order.
/// `traj` is scratch of length 2·steps.
pub fn hand(p: &[f64], obs: &[f64], h: f64, traj: &mut Vec<f64>, g: &mut [f64]) -> f64 {
    let q = [p[0], p[1], p[2], p[3]];
    let steps = obs.len() / 2;
    traj.clear();
    let (mut u, mut v) = (p[4], p[5]);
    let mut loss = 0.0;
    for s in 0..steps {
        traj.push(u);
        traj.push(v);
        let (k1u, k1v) = rhs(&q, u, v);
        let (k2u, k2v) = rhs(&q, u + 0.5 * h * k1u, v + 0.5 * h * k1v);
        let (k3u, k3v) = rhs(&q, u + 0.5 * h * k2u, v + 0.5 * h * k2v);
        let (k4u, k4v) = rhs(&q, u + h * k3u, v + h * k3v);
        u += h / 6.0 * (k1u + 2.0 * k2u + 2.0 * k3u + k4u);
        v += h / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v);
        let (eu, ev) = (u - obs[2 * s], v - obs[2 * s + 1]);
        loss += eu * eu + ev * ev;
    }
    let mut q_bar = [0.0; 4];
    // Cotangent of the state after the last step.
    let (mut u_bar, mut v_bar) = (0.0, 0.0);
    for s in (0..steps).rev() {
        let (u0, v0) = (traj[2 * s], traj[2 * s + 1]);
        // The state after this step is what the loss term s reads.
        let (u1, v1) = if s + 1 < steps { (traj[2 * s + 2], traj[2 * s + 3]) } else { (u, v) };
        u_bar += 2.0 * (u1 - obs[2 * s]);
        v_bar += 2.0 * (v1 - obs[2 * s + 1]);
        // Recompute the stages.
        let (k1u, k1v) = rhs(&q, u0, v0);
        let (u2, v2) = (u0 + 0.5 * h * k1u, v0 + 0.5 * h * k1v);
        let (k2u, k2v) = rhs(&q, u2, v2);
        let (u3, v3) = (u0 + 0.5 * h * k2u, v0 + 0.5 * h * k2v);
        let (k3u, k3v) = rhs(&q, u3, v3);
        let (u4, v4) = (u0 + h * k3u, v0 + h * k3v);
        // y1 = y0 + h/6 (k1 + 2k2 + 2k3 + k4).
        let (mut k1u_bar, mut k1v_bar) = (h / 6.0 * u_bar, h / 6.0 * v_bar);
        let (mut k2u_bar, mut k2v_bar) = (h / 3.0 * u_bar, h / 3.0 * v_bar);
        let (mut k3u_bar, mut k3v_bar) = (h / 3.0 * u_bar, h / 3.0 * v_bar);
        let (k4u_bar, k4v_bar) = (h / 6.0 * u_bar, h / 6.0 * v_bar);
        // k4 = f(y0 + h k3).
        let (a, b) = rhs_vjp(&q, u4, v4, k4u_bar, k4v_bar, &mut q_bar);
        u_bar += a;
        v_bar += b;
        k3u_bar += h * a;
        k3v_bar += h * b;
        // k3 = f(y0 + h/2 k2).
        let (a, b) = rhs_vjp(&q, u3, v3, k3u_bar, k3v_bar, &mut q_bar);
        u_bar += a;
        v_bar += b;
        k2u_bar += 0.5 * h * a;
        k2v_bar += 0.5 * h * b;
        // k2 = f(y0 + h/2 k1).
        let (a, b) = rhs_vjp(&q, u2, v2, k2u_bar, k2v_bar, &mut q_bar);
        u_bar += a;
        v_bar += b;
        k1u_bar += 0.5 * h * a;
        k1v_bar += 0.5 * h * b;
        // k1 = f(y0).
        let (a, b) = rhs_vjp(&q, u0, v0, k1u_bar, k1v_bar, &mut q_bar);
        u_bar += a;
        v_bar += b;
    }
    g[..4].copy_from_slice(&q_bar);
    g[4] = u_bar;
    g[5] = v_bar;
    loss
}

/// The loss for the peers' number types.
pub fn generic<T: Scalar>(p: &[T], obs: &[f64], h: f64) -> T {
    let (a, b, c, d) = (p[0], p[1], p[2], p[3]);
    let f = |u: T, v: T| (a * u - b * u * v, d * u * v - c * v);
    let (mut u, mut v) = (p[4], p[5]);
    let mut loss: Option<T> = None;
    for s in 0..obs.len() / 2 {
        let (k1u, k1v) = f(u, v);
        let (k2u, k2v) = f(u + k1u * (0.5 * h), v + k1v * (0.5 * h));
        let (k3u, k3v) = f(u + k2u * (0.5 * h), v + k2v * (0.5 * h));
        let (k4u, k4v) = f(u + k3u * h, v + k3v * h);
        u = u + (k1u + k2u * 2.0 + k3u * 2.0 + k4u) * (h / 6.0);
        v = v + (k1v + k2v * 2.0 + k3v * 2.0 + k4v) * (h / 6.0);
        let (eu, ev) = (u - obs[2 * s], v - obs[2 * s + 1]);
        let term = eu * eu + ev * ev;
        loss = Some(match loss {
            None => term,
            Some(l) => l + term,
        });
    }
    loss.unwrap()
}
