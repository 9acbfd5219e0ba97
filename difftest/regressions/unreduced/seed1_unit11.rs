// seed 1, unit 11: does not compile: error[E0308]: mismatched types (line 1296)
#[differentiable]
fn g_11_0(a: f64, b: f64) -> f64 {
    let t1: (f64, f64) = (((0.5_f64 + (a * a)).ln() + b), (1.4_f64 + a));
    let (p2, q3): (f64, f64) = (((if (-0.8_f64) < b { (t1.0 + t1.1) } else { t1.0 }) + a), (((-a) - (-0.6_f64)) + b));
    let mut k4: usize = 0;
    loop {
        if k4 >= 4 { break; }
        k4 += 1;
        let (p5, q6): (f64, f64) = (((k4 as f64) + a), (f64::recip((0.5_f64 + ((q3 * a) * (q3 * a)))) + a));
        match k4 % 2 {
            0 => {
                for i7 in 1..=1 {
                    let mut v8 = b;
                    let (p9, q10): (f64, f64) = (((q3 - t1.0) + b), ((a / (1.0_f64 + (q3 * q3))) + a));
                    let mut v11 = (t1.0 / (1.0_f64 + ((a * t1.0) * (a * t1.0))));
                    let t12: (f64, f64) = (((0.5_f64 + (v8 * v8)).powi(-1) + a), ((-0.2_f64).atan().powi(3) + a));
                }
                if k4 % 2 == 0 {
                    if (1.5_f64 * b.cos()).exp2() > q6 { break; }
                    if (k4 as f64) < (k4 as f64) { return b; }
                    if k4 % 2 == 0 { continue; }
                } else {
                    let p2 = (p2 + (if (k4 as f64) > (-1.0_f64) { (0.9_f64 * (k4 as f64).tanh()).atanh() } else { f64::recip((0.5_f64 + (t1.1 * t1.1))) }));
                    let mut v13 = (-1.3_f64);
                }
            }
            _ => {
                let mut k14: usize = 0;
                while k14 < 3 && ((std::f64::consts::LN_2 + t1.1) < 2.9_f64) {
                    k14 += 1;
                    let q3 = (q3 + ((0.0_f64 + (b * b)).ln_1p() * b));
                }
                let mut k15: usize = 0;
                while k15 < 2 && (f64::log10((0.5_f64 + (b * b))) < 1.4_f64) {
                    k15 += 1;
                    let t16: (f64, f64) = (((-b) + a), ((a * a) + a));
                    if (2.0_f64 < 2.0_f64) && ((a < 1.7_f64) && (a > q3)) { continue; }
                }
            }
        }
    }
    (((q3 + b) + q3) + p2)
}
#[differentiable]
fn g_11_1(a: f64, b: f64) -> f64 {
    for i1 in (0..1).step_by(2) {
        for i2 in 0..1 {
            for i3 in 0..4 {
                if ((i3 as f64) + (-0.3_f64)) > 0.1_f64 { break; }
                let t4: (f64, f64) = (((0.5_f64 + (a * a)).sqrt() + b), ((a * (i1 as f64)) + b));
            }
            let t5: (f64, f64) = ((((i2 as f64) * (i1 as f64)) + b), ((if 1.6_f64 < 1.7_f64 { (i2 as f64) } else { b }) + b));
            if i1 % 2 == 0 { continue; }
            for i6 in (0..5).rev() {
                let mut v7 = t5.0.max((i2 as f64)).atan();
            }
        }
        for i8 in 0..1 {
            if g_11_0(1.2_f64, 1.3_f64) < (-1.0_f64) {
                let t9: (f64, f64) = ((g_11_0(a, (i8 as f64)) + a), ((-0.9_f64) + a));
            } else {
                let t10: (f64, f64) = (((0.5_f64 + (b * b)).powf((i8 as f64).cos()) + b), ((a + (i8 as f64)) + b));
            }
            let t11: (f64, f64) = ((g_11_0(a, 0.4_f64) + a), ((i8 as f64) + b));
            for i12 in (0..3).step_by(2) {
                let mut v13 = a;
                v13 += (-1.5_f64);
                v13 += (((-0.8_f64) + b) / (1.0_f64 + ((v13 * b) * (v13 * b))));
                let mut v14 = 1.3_f64;
            }
        }
    }
    let t15: (f64, f64) = (((-0.5_f64).min(a) + b), ((0.5_f64 + (a * a)).powi(-1) + a));
    if a.asinh() > 1.5_f64 {
        let t16: (f64, f64) = ((g_11_0((1.1_f64 + (b * b)).acosh(), (0.5_f64 + (t15.1 * t15.1)).powf(a.cos())) + b), (0.7_f64 + b));
        let mut k17: usize = 0;
        loop {
            if k17 >= 3 { break; }
            k17 += 1;
            let (p18, q19): (f64, f64) = (((0.5_f64 + (a * a)).powf((k17 as f64).atan()) + b), ((-a) + b));
            if q19 > 0.1_f64 { break; }
        }
    } else {
        let t20: (f64, f64) = (((a + t15.0) + a), (((t15.1 - a) * a.floor()) + a));
        let mut k21: usize = 0;
        while k21 < 2 && ((-t15.1) < 1.8_f64) {
            k21 += 1;
            if b < 1.7_f64 {
                if (t15.0 * (-0.9_f64)) > (k21 as f64) { return ((1.4_f64 * b).ln_1p() + (t15.0 * b).ln_1p()); }
                if (-1.2_f64).max(t20.1) < (-0.5_f64) { break; }
                let t22: (f64, f64) = (((0.5_f64 + (a * a)).powf((k21 as f64).cos()) + b), ((1.5_f64 * (-1.0_f64).cos()).exp_m1() + b));
            }
        }
    }
    ((0.9_f64 * t15.1.tanh()).atanh() + a)
}
#[differentiable]
fn f_11(x: &[f64]) -> f64 {
    let t1: (f64, f64) = (((1.2_f64 * (1.5_f64 * x[2].tanh()).sinh().tanh()).tan() + x[0]), ((x[1] + x[1].min(x[1])) + x[0]));
    let mut k2: usize = 0;
    loop {
        if k2 >= 1 { break; }
        k2 += 1;
        if g_11_1(x[k2 % x.len()], 1.8_f64) < t1.0 {
            for i3 in (0..x.len() - 1).step_by(2) {
                let mut v4 = (1.5_f64 * (1.2_f64 * x[(i3 * 2) % x.len()].tanh()).tan().cos()).cosh();
                let (p5, q6): (f64, f64) = ((x[1].hypot(v4) + x[1]), ((t1.1 * t1.0) + x[0]));
                let mut v7 = q6;
                let mut v8 = (if i3 % 2 == 1 { x[(i3 * 3) % 3] } else { (if x[(k2 * 3) % 3] > 0.1_f64 { x[i3 % x.len()] } else { p5 }) });
            }
            let mut v9 = ((0.5_f64 + (0.0_f64 * 0.0_f64)).powf((-1.1_f64).sin()) + (x[2] + 0.1_f64));
        } else {
            let mut v10 = (0.5_f64 + ((if x[k2 % x.len()] > 0.6_f64 { (k2 as f64) } else { x[1] }) * (if x[k2 % x.len()] > 0.6_f64 { (k2 as f64) } else { x[1] }))).powf((-0.7_f64).sin());
        }
        match k2 % 2 {
            0 => {
                let mut v11 = 1.8_f64.tanh();
                for (i12, &xv13) in x.iter().enumerate() {
                    if t1.1.sin().powi(2) < (i12 as f64) { continue; }
                    let mut v14 = ((if xv13 < x[(i12 * 3) % 3] { (k2 as f64) } else { v11 }) + ((i12 as f64) * xv13));
                    v11 += x[(k2 * 3) % 3];
                    let v14 = (v14 + (0.5_f64 + (v11 * v11)).ln());
                }
            }
            _ => {
                let mut v15 = (0.9_f64 * (k2 as f64).cos().tanh()).asin();
                if x[(k2 + 2) % x.len()] < (k2 as f64) {
                    if (v15 - x[(k2 * 3) % x.len()]) > x[(k2 + 3) % 3] { return (if k2 % 2 == 1 { x[1] } else { f64::tanh(1.3_f64) }); }
                } else {
                    let mut v16 = v15;
                    let mut v17 = (((k2 as f64) * x[k2 % 3]) - (k2 as f64).cos());
                }
            }
        }
        let mut arr18: Vec<f64> = vec![g_11_0(x[(k2 + 2) % x.len()], std::f64::consts::LN_2); 2];
    }
    let mut arr19: [f64; 2] = [1.1_f64; 2];
    ((1.2_f64 + x[0]) + arr19[1])
}
