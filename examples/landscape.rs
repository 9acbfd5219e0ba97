//! Loss landscapes: curvature, the condition number, and why gradient descent zig-zags.
//!
//! Near a minimum a loss is a bowl `f(x* + d) ≈ f(x*) + ½ dᵀHd`. Along an eigenvector of the Hessian `H`
//! the slope changes at the rate of its eigenvalue `λᵢ`, the "stiffness" of that direction. Gradient
//! descent with a fixed step `α` multiplies the error along eigenvector `i` by `1 − αλᵢ`: it is stable only
//! for `α < 2/λ_max`, and then the flattest direction shrinks by at most `1 − 2λ_min/λ_max` per step. The
//! best fixed step, `2/(λ_max + λ_min)`, contracts every direction by `(κ − 1)/(κ + 1)` with
//! `κ = λ_max/λ_min`, overshooting the stiff directions from wall to wall of the valley (the zig-zag) while
//! creeping along the flat one: about `κ/2 · ln(1/tol)` iterations. Newton's method steps by `−H⁻¹∇f`,
//! dividing each direction by its own `λᵢ`: it turns the valley into a round bowl, and its iteration count
//! does not depend on `κ` at all.
//!
//! This example measures all of that with the derivatives `#[differentiable]` generates: on quadratics
//! `½ Σ λᵢ (Qx)ᵢ²` in 100 dimensions (eigenvalues log-uniform in `[1, κ]`, `Q` a Householder reflection,
//! so `H = QΛQ` is dense) with `κ = 10, 10³, 10⁵`, and on Rosenbrock's valley from `(−1.2, 1)`, it
//! estimates `κ` by Lanczos from exact Hessian-vector products (never forming `H`) and compares it with the
//! truth, then counts the iterations gradient descent, Newton and Newton–CG need to reduce `‖∇f‖` by a
//! factor `10⁸`. It prints a markdown table and draws the GD and Newton trajectories over the contours of
//! two 2-d valleys into `target/landscape.svg` (hand-written SVG).
//!
//! Run with `cargo run --release --example landscape`. It exits non-zero if a check fails: a Lanczos `κ`
//! off by more than `10⁻⁶` relative, a Hessian-vector product that disagrees with `QΛQv`, gradient descent
//! not converging (or faster than its theory allows), Newton not converging, or the SVG not written.

use std::error::Error;
use std::f64::consts::PI;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use adjoint::curvature::{extreme_eigenvalues, HessianAt, LanczosSettings};
use adjoint::differentiable;
use adjoint::optim::line_search::Backtracking;
use adjoint::optim::{FnSecondOrder, Newton, NewtonCg};

/// Dimension of the quadratics.
const N: usize = 100;
/// Every method stops at `‖∇f(x)‖ ≤ TOL · ‖∇f(x₀)‖`.
const TOL: f64 = 1e-8;
/// The most gradient-descent iterations.
const GD_CAP: usize = 1_000_000;
/// The fixed step of gradient descent on Rosenbrock, below `2/λ_max` at the start and at the minimum.
const ROSENBROCK_STEP: f64 = 1e-3;
/// The largest relative error allowed of the Lanczos `κ` on the quadratics.
const KAPPA_RTOL: f64 = 1e-6;

// ---------------------------------------------------------------------------------------------------
// The objectives
// ---------------------------------------------------------------------------------------------------

/// `½ Σᵢ λᵢ yᵢ²` with `y = Qx`, `Q = I − 2uuᵀ` (a Householder reflection, `‖u‖ = 1`): a quadratic bowl
/// whose Hessian `QΛQ` has eigenvalues `λᵢ` along the reflected axes `Qeᵢ`.
#[differentiable(wrt(x))]
fn valley(x: &[f64], lambda: &[f64], u: &[f64]) -> f64 {
    let n = lambda.len();
    let mut ux = 0.0;
    for i in 0..n {
        ux += u[i] * x[i];
    }
    let mut s = 0.0;
    for i in 0..n {
        let y = x[i] - 2.0 * u[i] * ux;
        s += 0.5 * lambda[i] * y * y;
    }
    s
}

/// Rosenbrock's banana valley, minimum 0 at (1, 1).
#[differentiable]
fn rosenbrock(x: &[f64]) -> f64 {
    let a = 1.0 - x[0];
    let b = x[1] - x[0] * x[0];
    a * a + 100.0 * b * b
}

/// The data of a [`valley`]: its curvatures and its reflection.
#[derive(Clone)]
struct Quadratic {
    lambda: Vec<f64>,
    u: Vec<f64>,
}

impl Quadratic {
    /// `n` eigenvalues `κ^{i/(n−1)}`, log-uniform from 1 to `κ`, along the axes reflected by a fixed
    /// `u` that mixes every coordinate.
    fn log_uniform(n: usize, kappa: f64) -> Self {
        let lambda = (0..n).map(|i| kappa.powf(i as f64 / (n - 1) as f64)).collect();
        let u: Vec<f64> = (0..n).map(|i| (1.3 * i as f64 + 0.4).sin() + 0.2).collect();
        Quadratic { lambda, u: normalised(u) }
    }

    /// In 2-d, curvatures 1 (along the valley) and `kappa` (across), the valley's axis at `angle`
    /// radians: `Q` reflects across the line at `angle/2`, so `Qe₁` points along `angle`.
    fn tilted(kappa: f64, angle: f64) -> Self {
        let half = angle / 2.0;
        Quadratic { lambda: vec![1.0, kappa], u: vec![-half.sin(), half.cos()] }
    }

    fn dim(&self) -> usize {
        self.lambda.len()
    }

    fn lambda_min(&self) -> f64 {
        self.lambda.iter().copied().fold(f64::INFINITY, f64::min)
    }

    fn lambda_max(&self) -> f64 {
        self.lambda.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }

    /// `Qv`, by hand: the independent reference for the generated Hessian-vector products.
    fn reflect(&self, v: &[f64]) -> Vec<f64> {
        let uv = dot(&self.u, v);
        v.iter().zip(&self.u).map(|(vi, ui)| vi - 2.0 * ui * uv).collect()
    }

    /// `QΛQv`, by hand.
    fn hessian_times(&self, v: &[f64]) -> Vec<f64> {
        let y: Vec<f64> = self.reflect(v).iter().zip(&self.lambda).map(|(yi, l)| l * yi).collect();
        self.reflect(&y)
    }

    fn value(&self, x: &[f64]) -> f64 {
        valley(x, &self.lambda, &self.u)
    }

    fn grad_into(&self, x: &[f64], g: &mut [f64]) -> f64 {
        valley_grad_into(x, &self.lambda, &self.u, g)
    }

    /// `H·v` from the generated forward-over-reverse product.
    fn hvp_into(&self, x: &[f64], v: &[f64], hv: &mut [f64]) {
        let mut g = vec![0.0; x.len()];
        valley_hvp_into(x, v, &self.lambda, &self.u, &mut g, hv);
    }

    /// The objective the optimisers of `adjoint::optim` take, all three functions generated.
    fn second_order(&self) -> SecondOrder<Quadratic> {
        FnSecondOrder::new(
            self.dim(),
            self.clone(),
            |x, q| q.value(x),
            |x, q, g| q.grad_into(x, g),
            |x, q, v, hv| q.hvp_into(x, v, hv),
        )
    }
}

/// An objective of `adjoint::optim` from plain functions over data `D`.
type SecondOrder<D> =
    FnSecondOrder<D, fn(&[f64], &D) -> f64, fn(&[f64], &D, &mut [f64]) -> f64, fn(&[f64], &D, &[f64], &mut [f64])>;

// ---------------------------------------------------------------------------------------------------
// Small vector helpers
// ---------------------------------------------------------------------------------------------------

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

fn normalised(v: Vec<f64>) -> Vec<f64> {
    let n = norm(&v);
    v.into_iter().map(|c| c / n).collect()
}

// ---------------------------------------------------------------------------------------------------
// Gradient descent
// ---------------------------------------------------------------------------------------------------

/// The outcome of a gradient-descent run.
struct Descent {
    /// Iterations made (gradient steps).
    iterations: usize,
    /// Whether `‖∇f‖ ≤ TOL·‖∇f(x₀)‖` was reached within the cap.
    converged: bool,
    /// The iterates, if asked for.
    path: Vec<[f64; 2]>,
    /// Evaluations of value and gradient (more than the iterations with a line search).
    evaluations: usize,
}

/// Gradient descent with the fixed step `step`, `grad(x, g)` writing the gradient, from `x0`.
fn descend_fixed(grad: &dyn Fn(&[f64], &mut [f64]), x0: &[f64], step: f64, cap: usize, record: bool) -> Descent {
    let mut x = x0.to_vec();
    let mut g = vec![0.0; x.len()];
    grad(&x, &mut g);
    let target = TOL * norm(&g);
    let mut path = Vec::new();
    let mut iterations = 0;
    loop {
        if record {
            path.push([x[0], x[1]]);
        }
        if norm(&g) <= target || iterations == cap || !g.iter().all(|c| c.is_finite()) {
            break;
        }
        x.iter_mut().zip(&g).for_each(|(xi, gi)| *xi -= step * gi);
        grad(&x, &mut g);
        iterations += 1;
    }
    let converged = norm(&g) <= target;
    Descent { iterations, converged, path, evaluations: iterations + 1 }
}

/// Gradient descent along `−∇f` with a backtracking Armijo line search (`adjoint::optim`'s, from the
/// step 1, halving, `c₁ = 10⁻⁴`) on Rosenbrock, from `x0`.
fn descend_backtracking(x0: &[f64], cap: usize) -> Result<Descent, Box<dyn Error>> {
    let f = rosenbrock_objective();
    let search = Backtracking::default();
    let mut x = x0.to_vec();
    let mut g = vec![0.0; 2];
    let mut value = rosenbrock_grad_into(&x, &mut g);
    let target = TOL * norm(&g);
    let (mut x_new, mut g_new) = (vec![0.0; 2], vec![0.0; 2]);
    let mut path = vec![[x[0], x[1]]];
    let (mut iterations, mut evaluations) = (0, 1);
    while norm(&g) > target && iterations < cap {
        let direction: Vec<f64> = g.iter().map(|gi| -gi).collect();
        let accepted = search.search(&f, &x, value, &g, &direction, 1.0, &mut x_new, &mut g_new)?;
        evaluations += accepted.evaluations;
        value = accepted.value;
        std::mem::swap(&mut x, &mut x_new);
        std::mem::swap(&mut g, &mut g_new);
        path.push([x[0], x[1]]);
        iterations += 1;
    }
    let converged = norm(&g) <= target;
    Ok(Descent { iterations, converged, path, evaluations })
}

/// Rosenbrock as an optimiser's objective, all three functions generated.
fn rosenbrock_objective() -> SecondOrder<()> {
    FnSecondOrder::new(
        2,
        (),
        |x, _: &()| rosenbrock(x),
        |x, _: &(), g| rosenbrock_grad_into(x, g),
        |x, _: &(), v, hv| {
            let mut g = [0.0; 2];
            rosenbrock_hvp_into(x, v, &mut g, hv);
        },
    )
}

/// The iterates `x₀, x₁, …` of [`Newton`] (with `settings`), read off runs capped at 0, 1, 2, …
/// iterations (a report holds only its final point).
fn newton_path<O: adjoint::optim::SecondOrderObjective>(
    settings: &Newton,
    objective: &O,
    x0: &[f64],
    iterations: usize,
) -> Result<Vec<[f64; 2]>, Box<dyn Error>> {
    (0..=iterations)
        .map(|k| {
            let report = Newton { max_iterations: k, ..*settings }.minimise(objective, x0)?;
            Ok([report.x[0], report.x[1]])
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------------

/// One row of the table.
struct Row {
    problem: String,
    kappa_exact: f64,
    kappa_lanczos: f64,
    lanczos_hvps: usize,
    gd_step: String,
    gd: Descent,
    gd_bound: Option<usize>,
    newton: (usize, usize, bool),
    newton_cg: (usize, usize, bool),
}

impl Row {
    fn relative_error(&self) -> f64 {
        (self.kappa_lanczos - self.kappa_exact).abs() / self.kappa_exact
    }

    fn print(&self) {
        let gd = if self.gd.converged { self.gd.iterations.to_string() } else { format!("> {} (capped)", GD_CAP) };
        let bound = self.gd_bound.map_or("—".to_string(), |b| b.to_string());
        let run = |(iterations, hvps, converged): (usize, usize, bool)| {
            if converged {
                format!("{iterations} ({hvps})")
            } else {
                format!("{iterations} ({hvps}) NOT CONVERGED")
            }
        };
        println!(
            "| {} | {:.6} | {:.6} | {:.1e} | {} | {} | {} | {} | {} | {} |",
            self.problem,
            self.kappa_exact,
            self.kappa_lanczos,
            self.relative_error(),
            self.lanczos_hvps,
            self.gd_step,
            gd,
            bound,
            run(self.newton),
            run(self.newton_cg),
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// The experiments
// ---------------------------------------------------------------------------------------------------

/// κ from one Lanczos run on exact Hessian-vector products: `(κ, products used)`.
fn lanczos_kappa<F, R>(x: Vec<f64>, hvp: F) -> Result<(f64, usize), Box<dyn Error>>
where
    F: Fn(&[f64], &[f64], &mut [f64]) -> R,
{
    let hessian = HessianAt::new(x, hvp);
    let settings = LanczosSettings { tolerance: 1e-12, ..LanczosSettings::default() };
    let extremes = extreme_eigenvalues(&hessian, &settings)?;
    Ok((extremes.condition_number()?, extremes.iterations))
}

fn quadratic_row(kappa: f64, failures: &mut Vec<String>) -> Result<Row, Box<dyn Error>> {
    let q = Quadratic::log_uniform(N, kappa);
    let (lo, hi) = (q.lambda_min(), q.lambda_max());
    let x0 = vec![1.0; N];
    let label = format!("quadratic, κ = 1e{}", kappa.log10().round());

    // The generated HVP against QΛQv, at a point and direction that exercise every coordinate.
    let v: Vec<f64> = (0..N).map(|i| (0.7 * i as f64).cos()).collect();
    let mut hv = vec![0.0; N];
    q.hvp_into(&x0, &v, &mut hv);
    let want = q.hessian_times(&v);
    let diff: Vec<f64> = hv.iter().zip(&want).map(|(a, b)| a - b).collect();
    if norm(&diff) > 1e-12 * norm(&want) {
        failures.push(format!("{label}: ‖Hv − QΛQv‖/‖QΛQv‖ = {:.1e}", norm(&diff) / norm(&want)));
    }

    let (kappa_lanczos, lanczos_hvps) =
        lanczos_kappa(x0.clone(), |x: &[f64], v: &[f64], out: &mut [f64]| q.hvp_into(x, v, out))?;
    let kappa_exact = hi / lo;

    // Fixed-step GD at the optimal step 2/(λ_max + λ_min) (below the stability limit 2/λ_max): every
    // eigen-direction of the error shrinks by at most ρ = (κ − 1)/(κ + 1) per step, so the gradient
    // norm does too, and `bound` iterations suffice.
    let step = 2.0 / (hi + lo);
    let rho = (kappa_exact - 1.0) / (kappa_exact + 1.0);
    let bound = (TOL.ln() / rho.ln()).ceil() as usize;
    let gd = descend_fixed(&|x, g| _ = q.grad_into(x, g), &x0, step, GD_CAP, false);
    if !gd.converged {
        failures.push(format!("{label}: gradient descent did not converge in {GD_CAP} iterations"));
    } else if gd.iterations > bound || 2 * gd.iterations < bound {
        failures.push(format!("{label}: gradient descent took {} iterations, theory says ≈ {bound}", gd.iterations));
    }

    let objective = q.second_order();
    let mut g0 = vec![0.0; N];
    let tolerance = TOL
        * norm(&{
            q.grad_into(&x0, &mut g0);
            g0
        });
    let newton = Newton { gradient_tolerance: tolerance, ..Newton::default() }.minimise(&objective, &x0)?;
    let newton = (newton.iterations.len(), newton.hessian_vector_products, newton.converged());
    if !newton.2 || newton.0 > 2 {
        failures.push(format!("{label}: Newton took {} iterations (converged: {})", newton.0, newton.2));
    }
    let newton_cg = NewtonCg { gradient_tolerance: tolerance, ..NewtonCg::default() }.minimise(&objective, &x0)?;
    let newton_cg = (newton_cg.iterations.len(), newton_cg.hessian_vector_products, newton_cg.converged());
    if !newton_cg.2 {
        failures.push(format!("{label}: Newton–CG did not converge"));
    }

    let row = Row {
        problem: label,
        kappa_exact,
        kappa_lanczos,
        lanczos_hvps,
        gd_step: format!("2/(λmax+λmin) = {step:.3e}"),
        gd,
        gd_bound: Some(bound),
        newton,
        newton_cg,
    };
    if row.relative_error() > KAPPA_RTOL {
        failures.push(format!("{}: Lanczos κ off by {:.1e} relative", row.problem, row.relative_error()));
    }
    Ok(row)
}

/// What the Rosenbrock experiment returns besides its row: the trajectories to plot.
struct RosenbrockRun {
    row: Row,
    newton_path: Vec<[f64; 2]>,
    /// Gradient descent with a backtracking line search instead of the fixed step.
    armijo: Descent,
}

fn rosenbrock_row(failures: &mut Vec<String>) -> Result<RosenbrockRun, Box<dyn Error>> {
    let x0 = [-1.2, 1.0];
    let label = "Rosenbrock from (−1.2, 1)".to_string();
    // At (1, 1) the Hessian is [[802, −400], [−400, 200]]: λ = 501 ± √(501² − 400).
    let root = (501.0f64 * 501.0 - 400.0).sqrt();
    let kappa_exact = (501.0 + root) / (501.0 - root);
    let (kappa_lanczos, lanczos_hvps) = lanczos_kappa(vec![1.0, 1.0], |x: &[f64], v: &[f64], out: &mut [f64]| {
        let mut g = [0.0; 2];
        rosenbrock_hvp_into(x, v, &mut g, out)
    })?;

    // A fixed step below 2/λ_max at the start (λ_max ≈ 1506) and at the minimum (λ_max ≈ 1001.6).
    let gd = descend_fixed(&|x, g| _ = rosenbrock_grad_into(x, g), &x0, ROSENBROCK_STEP, GD_CAP, true);
    let armijo = descend_backtracking(&x0, GD_CAP)?;
    for (run, how) in [(&gd, "fixed-step"), (&armijo, "backtracking")] {
        if !run.converged {
            failures.push(format!("{label}: {how} gradient descent did not converge in {GD_CAP} iterations"));
        }
    }

    let objective = rosenbrock_objective();
    let (_, g0) = rosenbrock_grad(&x0);
    let settings = Newton { gradient_tolerance: TOL * norm(&g0), ..Newton::default() };
    let report = settings.minimise(&objective, &x0)?;
    let at_minimum = (report.x[0] - 1.0).abs() < 1e-6 && (report.x[1] - 1.0).abs() < 1e-6;
    if !report.converged() || !at_minimum {
        failures.push(format!("{label}: Newton stopped at {:?} ({:?})", report.x, report.termination));
    }
    let newton_path = newton_path(&settings, &objective, &x0, report.iterations.len())?;
    let newton = (report.iterations.len(), report.hessian_vector_products, report.converged());
    let cg = NewtonCg { gradient_tolerance: TOL * norm(&g0), ..NewtonCg::default() }.minimise(&objective, &x0)?;
    if !cg.converged() {
        failures.push(format!("{label}: Newton–CG did not converge ({:?})", cg.termination));
    }
    let newton_cg = (cg.iterations.len(), cg.hessian_vector_products, cg.converged());

    let row = Row {
        problem: label,
        kappa_exact,
        kappa_lanczos,
        lanczos_hvps,
        gd_step: format!("fixed {ROSENBROCK_STEP:.0e}"),
        gd,
        gd_bound: None,
        newton,
        newton_cg,
    };
    if row.relative_error() > KAPPA_RTOL {
        failures.push(format!("{}: Lanczos κ off by {:.1e} relative", row.problem, row.relative_error()));
    }
    Ok(RosenbrockRun { row, newton_path, armijo })
}

/// Fixed-step GD just past the stability limit, at `1.01 · 2/λ_max`: the stiffest direction is
/// multiplied by `1 − 2.02 = −1.02` per step. Returns `‖∇f(x₂₀₀₀)‖/‖∇f(x₀)‖`.
fn unstable_growth(kappa: f64) -> f64 {
    let q = Quadratic::log_uniform(N, kappa);
    let x0 = vec![1.0; N];
    let mut g = vec![0.0; N];
    q.grad_into(&x0, &mut g);
    let start = norm(&g);
    let step = 1.01 * 2.0 / q.lambda_max();
    let mut x = x0;
    for _ in 0..2000 {
        x.iter_mut().zip(&g).for_each(|(xi, gi)| *xi -= step * gi);
        q.grad_into(&x, &mut g);
    }
    norm(&g) / start
}

// ---------------------------------------------------------------------------------------------------
// The plot
// ---------------------------------------------------------------------------------------------------

/// A rectangle of the plane drawn into a rectangle of the page.
struct Frame {
    /// Page position of the plot area's top-left corner, and its size in pixels.
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    /// The plane's ranges.
    x: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    fn px(&self, p: [f64; 2]) -> (f64, f64) {
        let sx = self.left + (p[0] - self.x.0) / (self.x.1 - self.x.0) * self.width;
        let sy = self.top + (self.y.1 - p[1]) / (self.y.1 - self.y.0) * self.height;
        (sx, sy)
    }
}

/// Contour lines of `f` at `level` on an `nx × ny` grid of cells over the frame, by marching squares,
/// joined into polylines (plane coordinates).
fn contour(f: &dyn Fn(f64, f64) -> f64, frame: &Frame, nx: usize, ny: usize, level: f64) -> Vec<Vec<[f64; 2]>> {
    let (dx, dy) = ((frame.x.1 - frame.x.0) / nx as f64, (frame.y.1 - frame.y.0) / ny as f64);
    let at = |i: usize, j: usize| [frame.x.0 + i as f64 * dx, frame.y.0 + j as f64 * dy];
    let values: Vec<f64> = (0..=ny)
        .flat_map(|j| (0..=nx).map(move |i| (i, j)))
        .map(|(i, j)| {
            let p = at(i, j);
            f(p[0], p[1])
        })
        .collect();
    let value = |i: usize, j: usize| values[j * (nx + 1) + i];
    // Edge ids: 2·node for the horizontal edge from node (i, j) to (i + 1, j), 2·node + 1 for the
    // vertical one to (i, j + 1).
    let node = |i: usize, j: usize| j * (nx + 1) + i;
    let crossing = |edge: usize| -> [f64; 2] {
        let (n, vertical) = (edge / 2, edge % 2 == 1);
        let (i, j) = (n % (nx + 1), n / (nx + 1));
        let (a, b) = if vertical { ((i, j), (i, j + 1)) } else { ((i, j), (i + 1, j)) };
        let (va, vb) = (value(a.0, a.1), value(b.0, b.1));
        let t = (level - va) / (vb - va);
        let (pa, pb) = (at(a.0, a.1), at(b.0, b.1));
        [pa[0] + t * (pb[0] - pa[0]), pa[1] + t * (pb[1] - pa[1])]
    };
    let mut neighbours: std::collections::HashMap<usize, Vec<usize>> = std::collections::HashMap::new();
    let mut link = |a: usize, b: usize| {
        neighbours.entry(a).or_default().push(b);
        neighbours.entry(b).or_default().push(a);
    };
    for j in 0..ny {
        for i in 0..nx {
            // Corners counter-clockwise from bottom-left; edges bottom, right, top, left.
            let corners = [value(i, j), value(i + 1, j), value(i + 1, j + 1), value(i, j + 1)];
            let above = corners.map(|v| v > level);
            let edges = [2 * node(i, j), 2 * node(i + 1, j) + 1, 2 * node(i, j + 1), 2 * node(i, j) + 1];
            let crossed: Vec<usize> = (0..4).filter(|&k| above[k] != above[(k + 1) % 4]).collect();
            match crossed.len() {
                2 => link(edges[crossed[0]], edges[crossed[1]]),
                4 => {
                    // A saddle cell: the centre decides which corners the lines cut off.
                    let centre = corners.iter().sum::<f64>() / 4.0 > level;
                    if centre == above[0] {
                        link(edges[0], edges[1]); // corner 1
                        link(edges[2], edges[3]); // corner 3
                    } else {
                        link(edges[3], edges[0]); // corner 0
                        link(edges[1], edges[2]); // corner 2
                    }
                }
                _ => {}
            }
        }
    }
    // Walk the chains: open ones (ending on the border) first, then the closed loops.
    let mut visited = std::collections::HashSet::new();
    let mut starts: Vec<usize> = neighbours.keys().copied().collect();
    starts.sort_by_key(|e| (neighbours[e].len() != 1, *e));
    let mut lines = Vec::new();
    for start in starts {
        if !visited.insert(start) {
            continue;
        }
        let mut line = vec![crossing(start)];
        let mut current = start;
        while let Some(&next) = neighbours[&current].iter().find(|e| !visited.contains(*e)) {
            visited.insert(next);
            line.push(crossing(next));
            current = next;
        }
        if neighbours[&start].len() == 2 && neighbours[&current].contains(&start) && line.len() > 2 {
            line.push(line[0]);
        }
        lines.push(line);
    }
    lines
}

/// The points of a path in page coordinates, dropping points closer than `min_gap` pixels to the
/// previous one kept (the last point is always kept), as SVG polyline coordinates.
fn svg_points(frame: &Frame, path: &[[f64; 2]], min_gap: f64) -> String {
    let mut out = String::new();
    let mut last: Option<(f64, f64)> = None;
    for (k, p) in path.iter().enumerate() {
        let (x, y) = frame.px(*p);
        let keep = match last {
            None => true,
            Some((lx, ly)) => (x - lx).hypot(y - ly) >= min_gap || k + 1 == path.len(),
        };
        if keep {
            let _ = write!(out, "{x:.1},{y:.1} ");
            last = Some((x, y));
        }
    }
    out.trim_end().to_string()
}

/// Nice tick positions covering `range` with about `count` ticks.
fn ticks(range: (f64, f64), count: usize) -> Vec<f64> {
    let raw = (range.1 - range.0) / count as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude);
    let first = (range.0 / step).ceil() as i64;
    let last = (range.1 / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// One panel: contours of `f`, the GD and Newton trajectories, axes and a title.
struct Panel<'a> {
    frame: Frame,
    title: String,
    f: &'a dyn Fn(f64, f64) -> f64,
    levels: Vec<f64>,
    gd: &'a [[f64; 2]],
    newton: &'a [[f64; 2]],
    minimum: [f64; 2],
    id: &'a str,
}

fn draw_panel(svg: &mut String, panel: &Panel) {
    let fr = &panel.frame;
    let (l, t, w, h) = (fr.left, fr.top, fr.width, fr.height);
    let _ = writeln!(svg, r#"<clipPath id="{}"><rect x="{l}" y="{t}" width="{w}" height="{h}"/></clipPath>"#, panel.id);
    let _ = writeln!(svg, r##"<rect x="{l}" y="{t}" width="{w}" height="{h}" fill="#fcfcfc"/>"##);
    let _ = writeln!(svg, r#"<g clip-path="url(#{})">"#, panel.id);
    for (k, level) in panel.levels.iter().enumerate() {
        let shade = 150 + (80 * k / panel.levels.len().max(1)) as u8;
        let mut d = String::new();
        for line in contour(panel.f, fr, 240, 160, *level) {
            let points = svg_points(fr, &line, 0.8);
            if let Some((first, rest)) = points.split_once(' ') {
                let _ = write!(d, "M{first}L{rest}");
            }
        }
        let _ =
            writeln!(svg, r#"<path d="{d}" fill="none" stroke="rgb({shade},{shade},{shade})" stroke-width="0.8"/>"#);
    }
    let _ = writeln!(
        svg,
        r##"<polyline points="{}" fill="none" stroke="#d62728" stroke-width="1.1" stroke-linejoin="round"/>"##,
        svg_points(fr, panel.gd, 0.6)
    );
    let _ = writeln!(
        svg,
        r##"<polyline points="{}" fill="none" stroke="#1f5fbf" stroke-width="2"/>"##,
        svg_points(fr, panel.newton, 0.0)
    );
    for p in panel.newton {
        let (x, y) = fr.px(*p);
        let _ = writeln!(svg, r##"<circle cx="{x:.1}" cy="{y:.1}" r="2.6" fill="#1f5fbf"/>"##);
    }
    let (sx, sy) = fr.px(panel.gd[0]);
    let _ = writeln!(svg, r#"<circle cx="{sx:.1}" cy="{sy:.1}" r="4.5" fill="black"/>"#);
    let (mx, my) = fr.px(panel.minimum);
    let _ = writeln!(
        svg,
        r#"<path d="M{:.1},{:.1}l10,10m0,-10l-10,10" stroke="black" stroke-width="2"/>"#,
        mx - 5.0,
        my - 5.0
    );
    let _ = writeln!(svg, "</g>");
    // Axes: frame, ticks, labels, title.
    let _ = writeln!(svg, r#"<rect x="{l}" y="{t}" width="{w}" height="{h}" fill="none" stroke="black"/>"#);
    for x in ticks(fr.x, 6) {
        let (px, _) = fr.px([x, fr.y.0]);
        let _ = writeln!(
            svg,
            r#"<line x1="{px:.1}" y1="{:.1}" x2="{px:.1}" y2="{:.1}" stroke="black"/><text x="{px:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            t + h,
            t + h + 5.0,
            t + h + 18.0,
            tick_label(x)
        );
    }
    for y in ticks(fr.y, 5) {
        let (_, py) = fr.px([fr.x.0, y]);
        let _ = writeln!(
            svg,
            r#"<line x1="{:.1}" y1="{py:.1}" x2="{l}" y2="{py:.1}" stroke="black"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            l - 5.0,
            l - 8.0,
            py + 4.0,
            tick_label(y)
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-style="italic">x₁</text>"#,
        l + w / 2.0,
        t + h + 36.0
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-style="italic" transform="rotate(-90 {:.1} {:.1})">x₂</text>"#,
        l - 34.0,
        t + h / 2.0,
        l - 34.0,
        t + h / 2.0
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="13" font-weight="bold">{}</text>"#,
        l + w / 2.0,
        t - 10.0,
        panel.title
    );
}

fn tick_label(v: f64) -> String {
    let s = format!("{}", (v * 1e6).round() / 1e6);
    s.replace('-', "−")
}

/// Writes the two-panel SVG and returns its path and size in bytes.
fn write_svg(
    quad: (&Quadratic, &[[f64; 2]], &[[f64; 2]]),
    rosen: (&[[f64; 2]], &[[f64; 2]]),
) -> Result<(PathBuf, usize), Box<dyn Error>> {
    let (width, height) = (1000.0, 440.0);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="{width}" height="{height}" fill="white"/>"#);

    let (q, q_gd, q_newton) = quad;
    let quad_f = |x: f64, y: f64| q.value(&[x, y]);
    // Level sets through points at distance r along the valley's floor: ½r² for r = ½, 1, …, 5.
    let quad_levels: Vec<f64> = (1..=10).map(|k| 0.5 * (0.5 * k as f64).powi(2)).collect();
    draw_panel(
        &mut svg,
        &Panel {
            frame: Frame { left: 60.0, top: 40.0, width: 420.0, height: 280.0, x: (-4.5, 4.5), y: (-3.0, 3.0) },
            title: format!("Quadratic, κ = 50, tilted 30°: GD {} steps, Newton {}", q_gd.len() - 1, q_newton.len() - 1),
            f: &quad_f,
            levels: quad_levels,
            gd: q_gd,
            newton: q_newton,
            minimum: [0.0, 0.0],
            id: "quadratic",
        },
    );

    let (r_gd, r_newton) = rosen;
    let rosen_f = |x: f64, y: f64| rosenbrock(&[x, y]);
    // Log-spaced levels, 10^(k/2) from 0.1 to 1000.
    let rosen_levels: Vec<f64> = (-2..=6).map(|k| 10f64.powf(k as f64 / 2.0)).collect();
    draw_panel(
        &mut svg,
        &Panel {
            frame: Frame { left: 560.0, top: 40.0, width: 420.0, height: 280.0, x: (-1.5, 1.5), y: (-0.5, 1.5) },
            title: format!(
                "Rosenbrock, log-spaced contours: GD {} steps, Newton {}",
                r_gd.len() - 1,
                r_newton.len() - 1
            ),
            f: &rosen_f,
            levels: rosen_levels,
            gd: r_gd,
            newton: r_newton,
            minimum: [1.0, 1.0],
            id: "rosenbrock",
        },
    );

    // Legend, shared, under the panels.
    let y = 395.0;
    let _ = writeln!(
        svg,
        r##"<g><line x1="150" y1="{y}" x2="180" y2="{y}" stroke="#d62728" stroke-width="1.5"/><text x="186" y="{}">gradient descent, fixed step (left: 2/(λmax+λmin); right: 10⁻³)</text>"##,
        y + 4.0
    );
    let y2 = y + 22.0;
    let _ = writeln!(
        svg,
        r##"<line x1="150" y1="{y2}" x2="180" y2="{y2}" stroke="#1f5fbf" stroke-width="2"/><circle cx="165" cy="{y2}" r="2.6" fill="#1f5fbf"/><text x="186" y="{}">Newton's method (iterates)</text>"##,
        y2 + 4.0
    );
    let _ = writeln!(
        svg,
        r#"<circle cx="420" cy="{y2}" r="4.5" fill="black"/><text x="430" y="{}">start</text><path d="M{},{}l10,10m0,-10l-10,10" stroke="black" stroke-width="2"/><text x="515" y="{}">minimum</text></g>"#,
        y2 + 4.0,
        495.0,
        y2 - 5.0,
        y2 + 4.0
    );
    let _ = writeln!(svg, "</svg>");

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("target");
    std::fs::create_dir_all(&dir)?;
    let path = dir.canonicalize()?.join("landscape.svg");
    std::fs::write(&path, &svg)?;
    Ok((path, svg.len()))
}

// ---------------------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------------------

fn run(failures: &mut Vec<String>) -> Result<(), Box<dyn Error>> {
    let started = Instant::now();
    println!("Loss landscapes: the Hessian's eigenvalues, the condition number κ, and why gradient descent zig-zags\n");
    println!(
        "Quadratics ½ Σ λᵢ (Qx)ᵢ² in n = {N} dimensions, λ log-uniform in [1, κ], Q a Householder reflection \
         (H = QΛQ is dense), from x₀ = (1, …, 1); Rosenbrock's valley from (−1.2, 1), κ of its Hessian at the \
         minimum (1, 1)."
    );
    println!(
        "Every method stops at ‖∇f‖ ≤ 1e-8·‖∇f(x₀)‖. κ by Lanczos: one run on exact Hessian-vector products \
         (never forming H). GD bound: ⌈ln(1e8)/ln((κ+1)/(κ−1))⌉ ≈ 9.2 κ. Newton and Newton–CG: iterations \
         (Hessian-vector products).\n"
    );
    println!(
        "| problem | κ exact | κ Lanczos | rel. error | Lanczos HVPs | GD step | GD iterations | GD bound | Newton | Newton–CG |"
    );
    println!("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|");
    let mut rows = Vec::new();
    for kappa in [1e1, 1e3, 1e5] {
        let row = quadratic_row(kappa, failures)?;
        row.print();
        rows.push(row);
    }
    let rosen = rosenbrock_row(failures)?;
    rosen.row.print();
    println!();

    // GD grows ∝ κ; Newton does not move.
    let gd: Vec<usize> = rows.iter().map(|r| r.gd.iterations).collect();
    if !gd.windows(2).all(|w| w[1] > 10 * w[0]) {
        failures.push(format!("gradient-descent iterations {gd:?} do not grow with κ"));
    }
    println!(
        "Gradient descent: {} → {} → {} iterations as κ goes 10 → 10³ → 10⁵ (∝ κ: the zig-zag). Newton: {} → {} → {} \
         (flat: H⁻¹ undoes the distortion, at n = {N} Hessian-vector products for the dense H). Newton–CG: {} → {} → {} \
         iterations, {} → {} → {} products (its inner CG still feels κ, though more weakly: CG needs ≲ √κ products per digit, at most n per solve).",
        gd[0],
        gd[1],
        gd[2],
        rows[0].newton.0,
        rows[1].newton.0,
        rows[2].newton.0,
        rows[0].newton_cg.0,
        rows[1].newton_cg.0,
        rows[2].newton_cg.0,
        rows[0].newton_cg.1,
        rows[1].newton_cg.1,
        rows[2].newton_cg.1,
    );
    let worst = rows.iter().chain([&rosen.row]).map(Row::relative_error).fold(0.0, f64::max);
    println!(
        "Lanczos: κ to a relative {worst:.0e} or better, from at most n products; λ_min sits at the edge of a dense \
         cluster of a log-uniform spectrum, so at the tolerance asked (1e-12·‖H‖) it needs nearly the whole Krylov \
         space here."
    );
    println!(
        "Rosenbrock: {} gradient-descent iterations at the fixed step {ROSENBROCK_STEP:.0e} (2/λmax = {:.3e} at the \
         minimum), {} with an Armijo backtracking line search ({} evaluations), against {} Newton iterations.",
        rosen.row.gd.iterations,
        2.0 / (501.0 + (501.0f64 * 501.0 - 400.0).sqrt()),
        rosen.armijo.iterations,
        rosen.armijo.evaluations,
        rosen.row.newton.0
    );

    // The step must stay below 2/λ_max: just past it, GD diverges along the stiffest direction.
    let growth = unstable_growth(1e1);
    println!(
        "The step 2/(λmax+λmin) is below the stability limit 2/λmax; at 1.01·2/λmax (κ = 10) the stiffest \
         direction is multiplied by −1.02 per step and ‖∇f‖ grows ×{growth:.1e} in 2000 steps: divergence."
    );
    if growth < 1e3 {
        failures.push(format!("GD past the stability limit grew ‖∇f‖ only ×{growth:.1e}"));
    }

    // The plot: a 2-d quadratic valley (κ = 50, tilted 30°) and Rosenbrock.
    let q2 = Quadratic::tilted(50.0, PI / 6.0);
    let (c, s) = ((PI / 6.0).cos(), (PI / 6.0).sin());
    // 4 units down the valley's floor and 0.5 up its wall.
    let x0 = [-4.0 * c - 0.5 * s, -4.0 * s + 0.5 * c];
    let step = 2.0 / (q2.lambda_max() + q2.lambda_min());
    let q_gd = descend_fixed(&|x, g| _ = q2.grad_into(x, g), &x0, step, GD_CAP, true);
    let objective = q2.second_order();
    let mut g0 = vec![0.0; 2];
    q2.grad_into(&x0, &mut g0);
    let settings = Newton { gradient_tolerance: TOL * norm(&g0), ..Newton::default() };
    let q_newton_report = settings.minimise(&objective, &x0)?;
    if !q_newton_report.converged() || !q_gd.converged {
        failures.push("2-d quadratic: GD or Newton did not converge".to_string());
    }
    let q_newton = newton_path(&settings, &objective, &x0, q_newton_report.iterations.len())?;
    let (path, size) = write_svg((&q2, &q_gd.path, &q_newton), (&rosen.row.gd.path, &rosen.newton_path))?;
    println!("\nSVG: {} ({:.1} KB)", path.display(), size as f64 / 1024.0);
    if size > 200 * 1024 {
        failures.push(format!("the SVG is {size} bytes, more than 200 KB"));
    }
    println!("Elapsed: {:.2} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn main() -> ExitCode {
    let mut failures = Vec::new();
    if let Err(e) = run(&mut failures) {
        failures.push(format!("error: {e}"));
    }
    if failures.is_empty() {
        println!("All checks passed.");
        ExitCode::SUCCESS
    } else {
        eprintln!("\n{} check(s) failed:", failures.len());
        for f in &failures {
            eprintln!("  - {f}");
        }
        ExitCode::FAILURE
    }
}
