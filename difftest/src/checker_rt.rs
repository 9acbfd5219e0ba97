//! The checks run on every generated function. This file is compiled as a module of
//! `adjoint-difftest` and also pasted verbatim into every generated crate (it has no dependencies).

/// The generated forms of a scalar function, seen through its flat input `&[f64]`.
pub struct Forms<'a> {
    pub f: &'a dyn Fn(&[f64]) -> f64,
    pub grad: &'a dyn Fn(&[f64]) -> (f64, Vec<f64>),
    pub jvp: &'a dyn Fn(&[f64], &[f64]) -> (f64, f64),
    pub vjp: &'a dyn Fn(&[f64], f64, &mut [f64]) -> f64,
    pub grad_into: &'a dyn Fn(&[f64], &mut [f64]) -> f64,
    pub hvp: &'a dyn Fn(&[f64], &[f64]) -> (f64, Vec<f64>, Vec<f64>),
}

/// Stands for `f_hvp` when the function has none; recognised by its result's length and skipped.
pub fn no_hvp(_: &[f64], _: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
    (f64::NAN, Vec::new(), Vec::new())
}

/// Relative tolerance of finite-difference comparisons.
pub const FD_RTOL: f64 = 1e-5;
/// Absolute tolerance of finite-difference comparisons, times `1 + |f|` (or `1 + ‖∇f‖ + ‖H·v‖`).
pub const FD_ATOL: f64 = 1e-7;
/// Relative tolerance of comparisons between two exact derivatives (forward vs reverse).
pub const EXACT_RTOL: f64 = 1e-8;
/// The largest relative change of the gradient, when x moves by 4 ulps, at which a point is checked.
pub const MAX_NOISE: f64 = 1e-5;
/// Points per function.
pub const POINTS: usize = 4;

/// Accumulates failures and statistics over a batch.
pub struct Checker {
    pub failures: Vec<String>,
    pub functions: usize,
    pub points: usize,
    /// Points where `f` or its gradient is not finite (outside the domain): skipped.
    pub rejected_points: usize,
    /// Finite-difference comparisons skipped because two extrapolations disagree (not smooth there).
    pub inconclusive_fd: usize,
    /// Points (or their H·v checks) skipped because the gradient (or H·v) is not stable at the scale of
    /// rounding (it changes by more than [`MAX_NOISE`] when x moves by 4 ulps): no finite difference can
    /// check it there.
    pub ill_conditioned: usize,
    /// Finite-difference comparisons made.
    pub fd_checks: usize,
    state: u64,
}

impl Default for Checker {
    fn default() -> Self {
        Self::new()
    }
}

fn norm_inf(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, x| m.max(x.abs()))
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// max |aᵢ − bᵢ|.
fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).fold(0.0, |m: f64, (p, q)| m.max((p - q).abs()))
}

/// max |aᵢ − bᵢ| / max |bᵢ|.
fn relative_change(a: &[f64], b: &[f64]) -> f64 {
    max_abs_diff(a, b) / norm_inf(b).max(1e-300)
}

fn abs_dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x * y).abs()).sum()
}

fn close(a: f64, b: f64, rtol: f64, atol: f64) -> bool {
    (a - b).abs() <= atol + rtol * a.abs().max(b.abs())
}

/// The outcome of one finite-difference comparison.
#[derive(Debug, PartialEq)]
pub enum Fd {
    Agrees,
    /// The extrapolations disagree, or the midpoints do not converge like t²: not smooth at this scale.
    Inconclusive,
    Disagrees(f64),
}

/// Steps of the finite differences: `h, h/2, h/4, h/8`.
pub const FD_STEPS: usize = 4;

/// Compares `exact` with the Richardson-extrapolated central differences `d[k] = (φ(t) − φ(−t)) / 2t` at
/// `t = h / 2^k`. The three extrapolations must agree with each other before the last one is trusted:
/// where `φ` oscillates faster than the step (`sin` of an argument ~10⁶) two of them can agree by chance,
/// three rarely do.
///
/// `mid[k] = |(φ(t) + φ(−t))/2 − φ(0)|` must shrink like t² too: where it does not, φ has a kink at the
/// point, or the point is not on the smooth piece its neighbours are on. A branch decided by rounding (`(a − b) + b > a`, true
/// or false depending on the last bits of `a`) can be taken at x and at none of the eight points around it
/// (seed 8, unit 8733); the derivative at x is then that of another piece than the differences see.
pub fn compare_fd(exact: f64, d: [f64; FD_STEPS], mid: [f64; FD_STEPS], atol: f64) -> Fd {
    // Smooth: the ratio of the last two is 1/4; a kink at x: 1/2; x on a piece of its own: 1.
    if mid[FD_STEPS - 1] > 0.35 * mid[FD_STEPS - 2] + atol {
        return Fd::Inconclusive;
    }
    let r: Vec<f64> = d.windows(2).map(|w| (4.0 * w[1] - w[0]) / 3.0).collect();
    let last = r[r.len() - 1];
    let consistent =
        r.iter().all(|v| v.is_finite()) && r.windows(2).all(|w| close(w[0], w[1], FD_RTOL / 4.0, atol / 4.0));
    // Slopes beyond 1e8 (the bound on accepted gradients) are not trusted either: `floor` of a steep
    // function is a staircase finer than the step, which finite differences see as a ramp.
    if !consistent || last.abs() > 1e8 {
        return Fd::Inconclusive;
    }
    if close(exact, last, FD_RTOL, atol) {
        Fd::Agrees
    } else {
        Fd::Disagrees(last)
    }
}

impl Checker {
    pub fn new() -> Self {
        Checker {
            failures: Vec::new(),
            functions: 0,
            points: 0,
            rejected_points: 0,
            inconclusive_fd: 0,
            ill_conditioned: 0,
            fd_checks: 0,
            state: 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// splitmix64, uniform in `lo..hi`.
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        lo + (hi - lo) * ((z >> 11) as f64 / (1u64 << 53) as f64)
    }

    fn random_vec(&mut self, n: usize, lo: f64, hi: f64) -> Vec<f64> {
        (0..n).map(|_| self.uniform(lo, hi)).collect()
    }

    fn fail(&mut self, name: &str, x: &[f64], what: String) {
        self.failures.push(format!("{name} at x = {x:?}: {what}"));
    }

    /// Checks `fs` at [`POINTS`] random points of `[-2, 2]^dim`; stops at the first failure.
    ///
    /// The points depend only on `dim` (not on what was checked before), so that a failure reproduces
    /// when the function is checked alone, as the shrinker does.
    pub fn check(&mut self, name: &str, dim: usize, fs: &Forms) {
        self.functions += 1;
        self.state = 0x9e37_79b9_7f4a_7c15 ^ (dim as u64).wrapping_mul(0xd1b5_4a32_d192_ed03);
        let before = self.failures.len();
        for _ in 0..POINTS {
            let x = self.random_vec(dim, -2.0, 2.0);
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.check_at(name, &x, fs)));
            if let Err(e) = run {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                self.fail(name, &x, format!("panicked: {msg}"));
            }
            if self.failures.len() > before {
                return;
            }
        }
    }

    fn check_at(&mut self, name: &str, x: &[f64], fs: &Forms) {
        let n = x.len();
        self.points += 1;
        let y = (fs.f)(x);
        let (yg, g) = (fs.grad)(x);
        if !y.is_finite() || !g.iter().all(|v| v.is_finite()) || norm_inf(&g) > 1e8 || y.abs() > 1e12 {
            self.rejected_points += 1;
            return;
        }
        if !close(y, yg, 1e-12, 1e-300) {
            return self.fail(name, x, format!("f_grad returns the value {yg:e} but f = {y:e}"));
        }
        if g.len() != n {
            return self.fail(name, x, format!("gradient of length {} for {n} inputs", g.len()));
        }

        // How much rounding the computation amplifies: the relative change of the gradient when x moves by
        // a few ulps. Tiny for most functions; ~1e-7 for `v += v − x₀` thirty times (v = x₀ exactly, but
        // each step doubles the rounding error). Comparisons between two exact derivatives computed in
        // different orders (forward vs reverse, floats vs duals) allow 100 times that.
        let nudged: Vec<f64> = x.iter().map(|a| a * (1.0 + 4.0 * f64::EPSILON)).collect();
        let (_, gn) = (fs.grad)(&nudged);
        // Where that change is large, the derivative describes oscillations far finer than any step:
        // `atan(v² − v)` after `v += Σ 2v²·sin(2v²)` three times (v ≈ 10⁵, ∂v/∂x ≈ 10¹⁸) has the exact
        // derivative 1372 from a wiggle of amplitude 1e-10, invisible to finite differences (seed 7, unit
        // 132). Such points are skipped.
        let noise = relative_change(&gn, &g);
        if noise.is_nan() || noise > MAX_NOISE {
            self.ill_conditioned += 1;
            return;
        }
        let exact_rtol = EXACT_RTOL.max(100.0 * noise);
        let bitwise_rtol = 1e-12_f64.max(100.0 * noise);

        // Gradient vs finite differences, coordinate by coordinate.
        let atol = FD_ATOL * (1.0 + y.abs());
        for i in 0..n {
            let h0 = 1e-3 * (1.0 + x[i].abs());
            let (mut d, mut mid) = ([0.0; FD_STEPS], [0.0; FD_STEPS]);
            for k in 0..FD_STEPS {
                let h = h0 / (1u32 << k) as f64;
                let (mut p, mut m) = (x.to_vec(), x.to_vec());
                p[i] += h;
                m[i] -= h;
                let (fp, fm) = ((fs.f)(&p), (fs.f)(&m));
                d[k] = (fp - fm) / (p[i] - m[i]);
                mid[k] = ((fp + fm) / 2.0 - y).abs();
            }
            self.fd_checks += 1;
            match compare_fd(g[i], d, mid, atol) {
                Fd::Agrees => {}
                Fd::Inconclusive => self.inconclusive_fd += 1,
                Fd::Disagrees(r) => {
                    return self.fail(
                        name,
                        x,
                        format!("gradient[{i}] = {:e} but finite differences give {r:e} (gradient {g:?})", g[i]),
                    )
                }
            }
        }

        // Forward mode: JVP = ∇f·v.
        let v = self.random_vec(n, -1.0, 1.0);
        let (yj, s) = (fs.jvp)(x, &v);
        if !close(y, yj, 1e-12, 1e-300) {
            return self.fail(name, x, format!("f_jvp returns the value {yj:e} but f = {y:e}"));
        }
        let gv = dot(&g, &v);
        // The floor admits rounding where the derivative cancels exactly (`atan2(x, x/c)` is constant:
        // reverse mode gives 0, forward mode 1e-16).
        if !close(s, gv, exact_rtol, exact_rtol * abs_dot(&g, &v) + 1e-12 * (1.0 + y.abs())) {
            return self.fail(name, x, format!("JVP along {v:?} = {s:e} but ∇f·v = {gv:e}"));
        }

        // Reverse mode: f_vjp accumulates w·∇f, and ⟨J·v, w⟩ = ⟨v, Jᵀ·w⟩.
        let w = self.uniform(0.5, 2.0);
        let start = self.random_vec(n, -1.0, 1.0);
        let mut buf = start.clone();
        let yv = (fs.vjp)(x, w, &mut buf);
        if !close(y, yv, 1e-12, 1e-300) {
            return self.fail(name, x, format!("f_vjp returns the value {yv:e} but f = {y:e}"));
        }
        let jtw: Vec<f64> = buf.iter().zip(&start).map(|(b, s0)| b - s0).collect();
        for i in 0..n {
            if !close(jtw[i], w * g[i], exact_rtol, 1e-12 * (1.0 + start[i].abs() + w * norm_inf(&g))) {
                return self.fail(name, x, format!("f_vjp added {:e} to x̄[{i}] but w·∇f = {:e}", jtw[i], w * g[i]));
            }
        }
        let (lhs, rhs) = (s * w, dot(&v, &jtw));
        if !close(lhs, rhs, exact_rtol, exact_rtol * w * abs_dot(&g, &v) + 1e-12) {
            return self.fail(name, x, format!("⟨J·v, w⟩ = {lhs:e} but ⟨v, Jᵀ·w⟩ = {rhs:e}"));
        }

        // f_grad_into overwrites its buffer.
        let mut buf = vec![f64::NAN; n];
        let yi = (fs.grad_into)(x, &mut buf);
        if !close(y, yi, 1e-12, 1e-300) || buf.iter().zip(&g).any(|(a, b)| !close(*a, *b, 1e-12, 1e-300)) {
            return self.fail(name, x, format!("f_grad_into gives ({yi:e}, {buf:?}) but f_grad ({y:e}, {g:?})"));
        }

        // HVP: value and gradient as f_grad's, H·v vs finite differences of the gradient, symmetry.
        let (yh, gh, hv) = (fs.hvp)(x, &v);
        if gh.is_empty() && n > 0 {
            return;
        }
        if !close(y, yh, bitwise_rtol, 1e-300) {
            return self.fail(name, x, format!("f_hvp returns the value {yh:e} but f = {y:e}"));
        }
        if gh.iter().zip(&g).any(|(a, b)| !close(*a, *b, bitwise_rtol, bitwise_rtol * 1e-2 * norm_inf(&g))) {
            return self.fail(name, x, format!("f_hvp returns the gradient {gh:?} but f_grad {g:?}"));
        }
        if !hv.iter().all(|h| h.is_finite()) || norm_inf(&hv) > 1e8 {
            self.rejected_points += 1;
            return;
        }
        // The same test of conditioning for H·v, which can be unstable at rounding scale where the
        // gradient is not (seed 7, unit 132 at another point: H·v ≈ 10⁵ from a ripple of the gradient
        // that finite differences of it do not resolve).
        let hv_noise = relative_change(&(fs.hvp)(&nudged, &v).2, &hv);
        if hv_noise.is_nan() || hv_noise > MAX_NOISE {
            self.ill_conditioned += 1;
            return;
        }
        let exact_rtol = exact_rtol.max(100.0 * hv_noise);
        let t0 = 1e-3 * (1.0 + norm_inf(x));
        let mut cols: [Vec<f64>; FD_STEPS] = Default::default();
        let mut mid = [0.0; FD_STEPS];
        for (k, col) in cols.iter_mut().enumerate() {
            let t = t0 / (1u32 << k) as f64;
            let p: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a + t * b).collect();
            let m: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a - t * b).collect();
            let (gp, gm) = ((fs.grad)(&p).1, (fs.grad)(&m).1);
            *col = gp.iter().zip(&gm).map(|(a, b)| (a - b) / (2.0 * t)).collect();
            let centre: Vec<f64> = gp.iter().zip(&gm).map(|(a, b)| (a + b) / 2.0).collect();
            mid[k] = max_abs_diff(&centre, &g);
        }
        let atol = FD_ATOL * (1.0 + norm_inf(&g) + norm_inf(&hv));
        for i in 0..n {
            self.fd_checks += 1;
            match compare_fd(hv[i], std::array::from_fn(|k| cols[k][i]), mid, atol) {
                Fd::Agrees => {}
                Fd::Inconclusive => self.inconclusive_fd += 1,
                Fd::Disagrees(r) => {
                    return self.fail(
                        name,
                        x,
                        format!(
                        "(H·v)[{i}] = {:e} but finite differences of the gradient give {r:e} (v = {v:?}, H·v = {hv:?})",
                        hv[i]
                    ),
                    )
                }
            }
        }
        let u = self.random_vec(n, -1.0, 1.0);
        let hu = (fs.hvp)(x, &u).2;
        let (a, b) = (dot(&u, &hv), dot(&v, &hu));
        if !close(a, b, exact_rtol, exact_rtol * (abs_dot(&u, &hv) + abs_dot(&v, &hu)) + 1e-12) {
            self.fail(name, x, format!("⟨u, H·v⟩ = {a:e} but ⟨v, H·u⟩ = {b:e}"));
        }
    }

    /// One line of statistics.
    pub fn summary(&self) -> String {
        format!(
            "DIFFTEST-STATS functions={} points={} rejected_points={} ill_conditioned={} fd_checks={} inconclusive_fd={} failures={}",
            self.functions,
            self.points,
            self.rejected_points,
            self.ill_conditioned,
            self.fd_checks,
            self.inconclusive_fd,
            self.failures.len()
        )
    }
}
