// seed 1, unit 15: does not compile: error[E0308]: mismatched types (line 1630)
#[differentiable]
fn g_15_0(a: f64, b: f64) -> f64 {
    for i1 in (0..1).step_by(3) {
        let mut v2 = (i1 as f64).floor();
        let mut arr3: [f64; 4] = [b.atan2((i1 as f64)), ((-1.1_f64) * v2), (v2 / (1.0_f64 + (a * a))), (0.9_f64 * b.tanh()).atanh()];
        let v2 = (v2 + (v2 * (1.1_f64 + (v2 * v2)).acosh()));
        let mut v4 = (i1 as f64);
    }
    let mut k5: usize = 0;
    loop {
        if k5 >= 2 { break; }
        k5 += 1;
        let mut v6 = (1.2_f64 * (-0.3_f64).tanh()).tan();
        if v6 > (-0.4_f64) {
            let mut k7: usize = 0;
            loop {
                if k7 >= 5 { break; }
                k7 += 1;
                let v6 = (v6 + (0.0_f64 + (v6 * v6)).ln_1p());
                let v6 = (v6 + (-b));
            }
            v6 += (((k7 as f64) * a) + (1.2_f64 * v6.tanh()).tan());
            let mut k8: usize = 0;
            loop {
                if k8 >= 5 { break; }
                k8 += 1;
                v6 = ((k7 as f64).round() * v6);
                let mut v9 = (0.5_f64 + ((k5 as f64) * (k5 as f64))).log10();
            }
        } else {
            v6 = (v6 + ((-1.1_f64).tanh() + (v6 / (1.0_f64 + (0.4_f64 * 0.4_f64))))).cos();
            match k5 % 3 {
                0 => {
                    v6 *= 1.8_f64.atan();
                }
                1 => {
                    let (p10, q11): (f64, f64) = ((b.asinh() + a), ((k5 as f64) + a));
                    v6 += (k5 as f64);
                    v6 -= (p10 + (k5 as f64));
                }
                _ => {
                    let t12: (f64, f64) = (((0.5_f64 + (v6 * v6)).cbrt() + b), (v6 + a));
                    let mut v13 = (v6.floor() - (t12.0 + v6));
                }
            }
            if k5 % 3 == 0 {
                let mut v14 = v6;
                let mut v15 = (1.1_f64 + (v14 * v14)).acosh();
                v14 += ((-v15) + b.cos().powi(3));
            }
        }
        v6 = ((-(if ((k5 as f64) < v6) && (b > v6) { (k5 as f64) } else { a })) + a);
        v6 += (((0.5_f64 + ((k5 as f64) * (k5 as f64))).sqrt() + b.hypot((-0.7_f64))) * (0.5_f64 + (1.0_f64 * 1.0_f64)).powi(-2));
    }
    (((k5 as f64) + a) + b)
}
#[differentiable]
fn f_15(x: &[f64]) -> f64 {
    if x[0] < 1.0_f64 {
        let mut k1: usize = 0;
        while k1 < 5 && (0.4_f64.tanh().powi(2) < 0.0_f64) {
            k1 += 1;
            let mut v2 = ((1.1_f64 + (x[1] * x[1])).acosh() * ((k1 as f64) + x[(k1 * 2) % x.len()]));
        }
        let mut v3 = (k1 as f64);
        v3 -= ((-(x[k1 % x.len()] + 1.2_f64)) + (x[k1 % 2] + (k1 as f64)));
    } else {
        let (p4, q5): (f64, f64) = ((x[0] + x[0]), ((-x[1]) + x[0]));
        let (p6, q7): (f64, f64) = (((0.0_f64 + (x[1] * x[1])).ln_1p() + x[0]), (x[1].atan2(0.6_f64).min(g_15_0(p4, (-1.7_f64))) + x[1]));
    }
    for i8 in (0..5).rev() {
        let mut k9: usize = 0;
        while k9 < 6 && (x[(i8 + 1) % 2].hypot((i8 as f64)) < 2.6_f64) {
            k9 += 1;
            if g_15_0(0.3_f64, 0.3_f64) < 1.0_f64 { break; }
        }
        if i8 % 3 == 0 {
            let mut k10: usize = 0;
            while k10 < 1 && ((0.9_f64 * x[0].tanh()).atanh() < 1.0_f64) {
                k10 += 1;
                if x[0] < x[k9 % 2] { return (0.5_f64 + ((1.5_f64 * x[(i8 * 3) % 2].tanh()).cosh() * (1.5_f64 * x[(i8 * 3) % 2].tanh()).cosh())).powf(g_15_0(std::f64::consts::FRAC_1_SQRT_2, (k10 as f64)).cos()); }
                let mut v11 = (i8 as f64);
            }
            let (p12, q13): (f64, f64) = (((0.5_f64 + (x[0] * x[0])).recip() + x[0]), ((1.1_f64 + (0.1_f64 * 0.1_f64)).acosh() + x[0]));
            match k10 % 2 {
                0 => {
                    let mut v14 = x[(i8 + 1) % x.len()].tanh();
                    v14 += x[k9 % x.len()];
                    v14 *= (0.5_f64 + ((1.7_f64 + x[0]) * (1.7_f64 + x[0]))).ln().sin();
                }
                _ => {
                    let t15: (f64, f64) = ((((k9 as f64) * x[k9 % x.len()]).ln_1p() + x[1]), (p12 + x[0]));
                    let p12 = (p12 + (1.1_f64 + ((x[0] * x[(k9 * 2) % 2]) * (x[0] * x[(k9 * 2) % 2]))).acosh());
                    let mut v16 = (k9 as f64);
                }
            }
        } else {
            let (p17, q18): (f64, f64) = ((std::f64::consts::FRAC_1_SQRT_2.signum() + x[0]), ((-0.6_f64) + x[1]));
            for i19 in 1..1 {
                let mut v20 = ((x[(k9 + 3) % 2] - x[(i8 + 3) % 2]) + q18.asinh());
                v20 -= (0.5_f64 + (((k9 as f64) - (-1.3_f64)) * ((k9 as f64) - (-1.3_f64)))).powi(-1);
            }
            let mut k21: usize = 0;
            loop {
                if k21 >= 3 { break; }
                k21 += 1;
                let (p22, q23): (f64, f64) = ((q18 + x[1]), (p17 + x[0]));
                let mut v24 = ((q18 - x[(k9 * 3) % x.len()]) - (x[(k9 + 1) % x.len()] * (-1.2_f64)));
                if (0.5_f64 + (2.0_f64 * 2.0_f64)).powf(p17.tanh()) > 0.7_f64 { continue; }
            }
        }
        let mut v25 = (if g_15_0(x[(i8 * 3) % 2], (-1.8_f64)) > (-1.6_f64) { (if (x[i8 % x.len()] * (i8 as f64)) > (-1.0_f64) { (x[(k9 * 3) % x.len()] * (k9 as f64)) } else { (x[(i8 + 3) % x.len()] + (-0.2_f64)) }) } else { ((0.0_f64 + ((i8 as f64) * (i8 as f64))).ln_1p() / (1.0_f64 + (std::f64::consts::LN_2.mul_add(x[i8 % x.len()], x[0]) * std::f64::consts::LN_2.mul_add(x[i8 % x.len()], x[0])))) });
    }
    if x[0] > x[1] {
        let mut v26 = (1.2_f64 + (std::f64::consts::LN_2 * x[0])).max(x[0]);
        v26 += (v26 - ((v26 + x[1]) + (0.1_f64 + x[1])));
    } else {
        for (i27, &xv28) in x.iter().enumerate() {
            let mut k29: usize = 0;
            while k29 < 6 && (1.4_f64 < 1.3_f64) {
                k29 += 1;
                let t30: (f64, f64) = (((0.5_f64 + (1.9_f64 * 1.9_f64)).recip() + x[1]), ((if k29 % 3 == 0 { x[i27 % x.len()] } else { xv28 }) + x[0]));
            }
        }
    }
    for &xv32 in x.iter() {
        let mut k33: usize = 0;
        while k33 < 5 && ((-xv32) < 0.6_f64) {
            k33 += 1;
            for i34 in (0..x.len()).step_by(3) {
                if (-0.2_f64) < x[(k33 + 3) % 2] { break; }
                let mut v35 = (1.5_f64 * (i34 as f64).atan()).sinh();
                let t36: (f64, f64) = (((x[1] / (1.0_f64 + (v35 * v35))) + x[1]), ((-(i34 as f64)) + x[1]));
            }
            if ((-1.1_f64) / (1.0_f64 + (x[k33 % x.len()] * x[k33 % x.len()]))) < 0.0_f64 {
                let mut v37 = x[(k33 * 2) % 2];
                let mut v38 = (0.5_f64 + ((-1.8_f64) * (-1.8_f64))).recip();
            } else {
                let t39: (f64, f64) = ((x[0] + x[0]), ((0.5_f64 + (x[1] * x[1])).log2() + x[1]));
                let mut v40 = (-x[(k33 + 2) % 2].atan().powi(2));
                let mut v41 = g_15_0((x[1] / (1.0_f64 + (xv32 * xv32))), xv32);
            }
            let mut v42 = (0.5_f64 + ((x[1] * 1.8_f64) * (x[1] * 1.8_f64))).cbrt();
        }
        if (0.9_f64 * (-1.2_f64).tanh()).atanh() < (-2.0_f64) {
            let mut v43 = 1.0_f64;
        } else {
            match k33 % 2 {
                0 => {
                    let mut v44 = (-x[(k33 + 1) % 2]);
                    v44 -= g_15_0(((k33 as f64) * v44), ((k33 as f64) / (1.0_f64 + (v44 * v44))));
                }
                _ => {
                    if k33 % 2 == 1 { return (-(0.5_f64 + (x[(k33 + 3) % x.len()] * x[(k33 + 3) % x.len()])).cbrt()); }
                    if ((k33 as f64) * x[(k33 * 3) % 2]) < (-2.0_f64) { break; }
                }
            }
            let mut v45 = (0.5_f64 + ((x[(k33 * 3) % x.len()] + x[(k33 * 2) % x.len()]) * (x[(k33 * 3) % x.len()] + x[(k33 * 2) % x.len()]))).log10();
            for i46 in 0..x.len() - 1 {
                v45 = (v45 + (0.9_f64 * (0.9_f64 * (i46 as f64).tanh()).asin().tanh()).atanh()).atan();
                let v45 = (v45 + (1.5_f64 * g_15_0(1.6_f64, xv32).atan()).exp2());
                let (p47, q48): (f64, f64) = (((if v45 < (-1.2_f64) { x[(i46 * 3) % 2] } else { (i46 as f64) }) + x[1]), ((v45 / (1.0_f64 + (x[0] * x[0]))) + x[0]));
                let mut v49 = v45;
            }
        }
        let mut v50 = (0.5_f64 + (x[(k33 + 1) % 2] * x[(k33 + 1) % 2])).log2().min((if ((1.5_f64 * x[0].tanh()).exp2() < x[1]) && (xv32 < 1.5_f64) { (x[1] + (k33 as f64)) } else { (if (k33 as f64) < (-0.7_f64) { (k33 as f64) } else { x[k33 % x.len()] }) }));
        v50 += (0.5_f64 + (x[(k33 * 2) % x.len()] * x[(k33 * 2) % x.len()])).powf((x[(k33 * 3) % x.len()] + (0.0_f64 + (v50 * v50)).ln_1p()).atan());
    }
    if (((-0.5_f64) + 0.3_f64) < 1.4_f64) && (0.3_f64 > x[0]) {
        let mut v51 = (0.9_f64 + x[1]);
        let (p52, q53): (f64, f64) = ((((0.5_f64 + (v51 * v51)).log2() + (std::f64::consts::PI * v51)) + x[0]), (x[1] + x[0]));
    } else {
        let mut v54 = (x[0] * x[1]);
    }
    if (x[1] < (-1.1_f64)) && ((x[1] > (-0.2_f64)) && (x[1] < 0.6_f64)) {
        let mut v55 = ((0.9_f64 * 1.8_f64.tanh()).asin() - (if (1.7_f64 - x[0]) < (-1.9_f64) { (x[0] * x[0]) } else { (x[0] / (1.0_f64 + (0.5_f64 * 0.5_f64))) }));
    }
    ((0.5_f64 + (x[0] * x[0])).log10() + x[1])
}
