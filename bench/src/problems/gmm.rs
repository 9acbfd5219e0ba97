//! ADBench's Gaussian-mixture objective (Šrajer, Kukelova, Fitzgibbon 2018, §3.1; the definition and the
//! reference values are in `bench/data/README.md`): the negative-free log-likelihood of n points under K
//! Gaussians in d dimensions with inverse-covariance factors `Q_k = diag(exp(icf_k[..d])) + L_k`, plus a
//! Wishart prior.
// Index loops and many plain arguments: the formula's own shape, in the supported subset.
#![allow(clippy::needless_range_loop, clippy::too_many_arguments)]

use adjoint::differentiable;

use crate::data::GmmInput;
use crate::scalar::Scalar;

/// Index in `icf_k` of the strictly-lower entry `L[j][l]` (`l < j`), stored column by column after the
/// d diagonal entries.
#[inline]
pub fn l_index(d: usize, j: usize, l: usize) -> usize {
    d + l * (d - 1) - (l * l - l) / 2 + (j - l - 1)
}

/// `ln Γ(x)` for x > 0 (Lanczos, g = 7, 9 terms; relative error ~1e-15).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The terms of the objective that depend on no parameter: `−(n·d/2)·ln 2π − K·(C − ln Γ_d(½(d+m+1)))`
/// with `C = (d+m+1)·d·ln(γ/√2)`.
pub fn constant_term(d: usize, k: usize, n: usize, gamma: f64, m: f64) -> f64 {
    let p = d as f64;
    let nu = p + m + 1.0;
    let ln_gamma_d = 0.25 * p * (p - 1.0) * std::f64::consts::PI.ln()
        + (1..=d).map(|j| ln_gamma(0.5 * nu + 0.5 * (1.0 - j as f64))).sum::<f64>();
    let c = nu * p * (gamma.ln() - 0.5 * 2f64.ln()) - ln_gamma_d;
    -(n as f64) * p * 0.5 * (2.0 * std::f64::consts::PI).ln() - k as f64 * c
}

/// The objective (ours). `constant` is [`constant_term`]; `d` and `k` the shapes; the points `x` are n
/// rows of d.
#[differentiable(wrt(alphas, means, icf))]
pub fn gmm_objective(
    alphas: &[f64],
    means: &[f64],
    icf: &[f64],
    x: &[f64],
    d: usize,
    k: usize,
    wishart_gamma: f64,
    wishart_m: f64,
    constant: f64,
) -> f64 {
    let n = x.len() / d;
    let n_icf = d * (d + 1) / 2;
    // Diagonals of the Q_k and the sums of their logs.
    let mut qdiag = vec![0.0; k * d];
    let mut sum_qs = vec![0.0; k];
    for c in 0..k {
        for j in 0..d {
            let q = icf[c * n_icf + j];
            qdiag[c * d + j] = q.exp();
            sum_qs[c] += q;
        }
    }
    // Σ_i logsumexp_k(α_k + Σ_j icf_k[j] − ½‖Q_k (x_i − μ_k)‖²)
    let mut xc = vec![0.0; d];
    let mut main = vec![0.0; k];
    let mut slse = 0.0;
    for i in 0..n {
        for c in 0..k {
            for j in 0..d {
                xc[j] = x[i * d + j] - means[c * d + j];
            }
            let mut sq = 0.0;
            for j in 0..d {
                let mut q = qdiag[c * d + j] * xc[j];
                for l in 0..j {
                    q += icf[c * n_icf + d + l * (d - 1) - (l * l - l) / 2 + (j - l - 1)] * xc[l];
                }
                sq += q * q;
            }
            main[c] = alphas[c] + sum_qs[c] - 0.5 * sq;
        }
        let mut mx = main[0];
        for c in 1..k {
            mx = mx.max(main[c]);
        }
        let mut se = 0.0;
        for c in 0..k {
            se += (main[c] - mx).exp();
        }
        slse += se.ln() + mx;
    }
    // n · logsumexp(α)
    let mut amx = alphas[0];
    for c in 1..k {
        amx = amx.max(alphas[c]);
    }
    let mut ase = 0.0;
    for c in 0..k {
        ase += (alphas[c] - amx).exp();
    }
    let lse_alphas = ase.ln() + amx;
    // Wishart prior.
    let mut prior = 0.0;
    for c in 0..k {
        let mut fro = 0.0;
        for j in 0..d {
            fro += qdiag[c * d + j] * qdiag[c * d + j];
        }
        for j in d..n_icf {
            fro += icf[c * n_icf + j] * icf[c * n_icf + j];
        }
        prior += 0.5 * wishart_gamma * wishart_gamma * fro - wishart_m * sum_qs[c];
    }
    constant + slse - n as f64 * lse_alphas + prior
}

/// Ours on an input, allocating the gradient: `(value, ∂/∂alphas ‖ ∂/∂means ‖ ∂/∂icf)`.
pub fn ours_value(g: &GmmInput) -> f64 {
    let c = constant_term(g.d, g.k, g.n, g.wishart_gamma, g.wishart_m);
    gmm_objective(&g.alphas, &g.means, &g.icf, &g.x, g.d, g.k, g.wishart_gamma, g.wishart_m, c)
}

/// Buffers of [`hand_gradient`], allocated once.
pub struct HandWork {
    qdiag: Vec<f64>,
    sum_qs: Vec<f64>,
    main: Vec<f64>,
    xc: Vec<f64>,  // K × d: x_i − μ_k
    qxc: Vec<f64>, // K × d: Q_k (x_i − μ_k)
}

impl HandWork {
    /// Buffers for inputs of the shapes of `g`.
    pub fn new(g: &GmmInput) -> HandWork {
        HandWork {
            qdiag: vec![0.0; g.k * g.d],
            sum_qs: vec![0.0; g.k],
            main: vec![0.0; g.k],
            xc: vec![0.0; g.k * g.d],
            qxc: vec![0.0; g.k * g.d],
        }
    }
}

/// The hand-written gradient as ADBench's `manual` module computes it (`gmm_objective_d`): per point,
/// the main terms with `x_i − μ_k` and `Q_k(x_i − μ_k)` kept, then the softmax weights `w_k` scatter
/// `w_k·∂main_k` into the gradient; the prior and `−n·softmax(α)` are added in closed form. Writes
/// `∂/∂alphas ‖ ∂/∂means ‖ ∂/∂icf` into `grad` and returns the value.
pub fn hand_gradient(g: &GmmInput, constant: f64, ws: &mut HandWork, grad: &mut [f64]) -> f64 {
    let (d, k) = (g.d, g.k);
    let n = g.x.len() / d;
    let n_icf = d * (d + 1) / 2;
    let (icf, means, alphas) = (&g.icf[..], &g.means[..], &g.alphas[..]);
    assert_eq!(grad.len(), k + k * d + k * n_icf);
    grad.fill(0.0);
    let (ga, rest) = grad.split_at_mut(k);
    let (gm, gi) = rest.split_at_mut(k * d);
    for c in 0..k {
        ws.sum_qs[c] = 0.0;
        for j in 0..d {
            ws.qdiag[c * d + j] = icf[c * n_icf + j].exp();
            ws.sum_qs[c] += icf[c * n_icf + j];
        }
    }
    let mut slse = 0.0;
    for i in 0..n {
        let xi = &g.x[i * d..(i + 1) * d];
        for c in 0..k {
            let xc = &mut ws.xc[c * d..(c + 1) * d];
            let qxc = &mut ws.qxc[c * d..(c + 1) * d];
            for j in 0..d {
                xc[j] = xi[j] - means[c * d + j];
            }
            // Q·xc, the lower part column by column as ADBench's Qtimesx.
            for j in 0..d {
                qxc[j] = ws.qdiag[c * d + j] * xc[j];
            }
            let lp = &icf[c * n_icf + d..(c + 1) * n_icf];
            let mut idx = 0;
            for l in 0..d {
                for j in l + 1..d {
                    qxc[j] += lp[idx] * xc[l];
                    idx += 1;
                }
            }
            let sq: f64 = qxc.iter().map(|q| q * q).sum();
            ws.main[c] = alphas[c] + ws.sum_qs[c] - 0.5 * sq;
        }
        let mx = ws.main.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        let se: f64 = ws.main.iter().map(|m| (m - mx).exp()).sum();
        let lse = se.ln() + mx;
        slse += lse;
        for c in 0..k {
            let w = (ws.main[c] - lse).exp();
            ga[c] += w;
            let xc = &ws.xc[c * d..(c + 1) * d];
            let qxc = &ws.qxc[c * d..(c + 1) * d];
            let gic = &mut gi[c * n_icf..(c + 1) * n_icf];
            let gmc = &mut gm[c * d..(c + 1) * d];
            // ∂main/∂icf_diag_j = 1 − (Qxc)_j · q_j · xc_j;  ∂main/∂μ = Qᵀ(Qxc).
            for j in 0..d {
                let q = ws.qdiag[c * d + j];
                gic[j] += w * (1.0 - qxc[j] * q * xc[j]);
                gmc[j] += w * q * qxc[j];
            }
            let lp = &icf[c * n_icf + d..(c + 1) * n_icf];
            let mut idx = 0;
            for l in 0..d {
                for j in l + 1..d {
                    // ∂main/∂L[j][l] = −(Qxc)_j · xc_l;  ∂main/∂μ_l += L[j][l]·(Qxc)_j.
                    gic[d + idx] -= w * qxc[j] * xc[l];
                    gmc[l] += w * lp[idx] * qxc[j];
                    idx += 1;
                }
            }
        }
    }
    // −n·logsumexp(α) and its gradient −n·softmax(α).
    let amx = alphas.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let ase: f64 = alphas.iter().map(|a| (a - amx).exp()).sum();
    let lse_alphas = ase.ln() + amx;
    for c in 0..k {
        ga[c] -= n as f64 * (alphas[c] - lse_alphas).exp();
    }
    // Wishart prior: ½γ²(Σ q² + Σ L²) − m·Σ icf_diag.
    let (gamma, m) = (g.wishart_gamma, g.wishart_m);
    let mut prior = 0.0;
    for c in 0..k {
        let mut fro = 0.0;
        for j in 0..d {
            let q = ws.qdiag[c * d + j];
            fro += q * q;
            gi[c * n_icf + j] += gamma * gamma * q * q - m;
        }
        for j in d..n_icf {
            let l = icf[c * n_icf + j];
            fro += l * l;
            gi[c * n_icf + j] += gamma * gamma * l;
        }
        prior += 0.5 * gamma * gamma * fro - m * ws.sum_qs[c];
    }
    constant + slse - n as f64 * lse_alphas + prior
}

/// The same objective for the peers' number types, on the parameters in ADBench's order
/// (alphas ‖ means ‖ icf); the maxima of the log-sum-exps are taken on values (they cancel exactly).
pub fn generic<T: Scalar>(theta: &[T], g: &GmmInput, constant: f64) -> T {
    let (d, k) = (g.d, g.k);
    let n = g.x.len() / d;
    let n_icf = d * (d + 1) / 2;
    let (alphas, rest) = theta.split_at(k);
    let (means, icf) = rest.split_at(k * d);
    let mut qdiag = Vec::with_capacity(k * d);
    let mut sum_qs = Vec::with_capacity(k);
    for c in 0..k {
        let mut s = icf[c * n_icf];
        for j in 0..d {
            qdiag.push(icf[c * n_icf + j].exp());
            if j > 0 {
                s = s + icf[c * n_icf + j];
            }
        }
        sum_qs.push(s);
    }
    let mut xc = Vec::with_capacity(d);
    let mut main = Vec::with_capacity(k);
    let mut slse: Option<T> = None;
    for i in 0..n {
        main.clear();
        for c in 0..k {
            xc.clear();
            for j in 0..d {
                xc.push(-means[c * d + j] + g.x[i * d + j]);
            }
            let mut sq: Option<T> = None;
            for j in 0..d {
                let mut q = qdiag[c * d + j] * xc[j];
                for l in 0..j {
                    q = q + icf[c * n_icf + l_index(d, j, l)] * xc[l];
                }
                sq = Some(match sq {
                    None => q * q,
                    Some(s) => s + q * q,
                });
            }
            main.push(alphas[c] + sum_qs[c] - sq.unwrap() * 0.5);
        }
        let lse = logsumexp(&main);
        slse = Some(match slse {
            None => lse,
            Some(s) => s + lse,
        });
    }
    let lse_alphas = logsumexp(alphas);
    let (gamma, m) = (g.wishart_gamma, g.wishart_m);
    let mut total = slse.unwrap() - lse_alphas * n as f64 + constant;
    for c in 0..k {
        let mut fro = qdiag[c * d] * qdiag[c * d];
        for j in 1..d {
            fro = fro + qdiag[c * d + j] * qdiag[c * d + j];
        }
        for j in d..n_icf {
            fro = fro + icf[c * n_icf + j] * icf[c * n_icf + j];
        }
        total = total + fro * (0.5 * gamma * gamma) - sum_qs[c] * m;
    }
    total
}

/// `ln Σ eᵛ`, shifted by the largest value.
fn logsumexp<T: Scalar>(v: &[T]) -> T {
    let mx = v.iter().fold(f64::NEG_INFINITY, |m, x| m.max(x.value()));
    let mut s = (v[0] - mx).exp();
    for x in &v[1..] {
        s = s + (*x - mx).exp();
    }
    s.ln() + mx
}
