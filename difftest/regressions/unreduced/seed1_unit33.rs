// seed 1, unit 33: does not compile: error[E0308]: arguments to this function are incorrect (line 2938)
#[differentiable]
fn g_33_0(a: f64, b: f64) -> f64 {
    for i1 in (0..4).rev() {
        let t2: (f64, f64) = (((a.mul_add((i1 as f64), (i1 as f64)) + (0.9_f64 * 1.4_f64.tanh()).atanh()) + a), ((0.5_f64 + ((a + (i1 as f64)) * (a + (i1 as f64)))).powf((a + std::f64::consts::LN_2).sin()) + b));
        let mut v3 = (1.5_f64 * t2.1.sin()).sinh();
        let (p4, q5): (f64, f64) = (((1.1_f64 + ((0.0_f64 + (v3 * v3)).ln_1p() * (0.0_f64 + (v3 * v3)).ln_1p())).acosh() + a), ((i1 as f64) + a));
    }
    ((if b < a { b } else { a }) + b)
}
#[differentiable]
fn g_33_1(a: f64, b: f64) -> f64 {
    if (g_33_0(b, b) < (-0.4_f64)) && ((1.8_f64 < a) && ((-1.1_f64) < (-0.4_f64))) {
        let mut arr1: Vec<f64> = vec![(1.1_f64 + (a * a)).acosh(); 2];
    }
    ((b + a) + b)
}
#[differentiable]
fn f_33(x: &[f64]) -> f64 {
    let t1: (f64, f64) = ((((0.5_f64 + (std::f64::consts::PI * std::f64::consts::PI)).powi(-2) * (0.5_f64 + (2.0_f64 * 2.0_f64)).log2()).ln_1p() + x[2]), (x[2] + x[0]));
    if (t1.0 * t1.1) < 0.9_f64 {
        if (0.5_f64 < 1.5_f64) && ((t1.0 > (-1.0_f64)) && ((x[2] < (-1.3_f64)) && (t1.1 > 1.5_f64))) {
            let (p2, q3): (f64, f64) = ((x[1].hypot(0.1_f64) + x[2]), ((std::f64::consts::LN_2 * t1.1) + x[0]));
            let t4: (f64, f64) = (((1.5_f64 * 0.3_f64.tanh()).exp_m1() + x[0]), ((q3 / (1.0_f64 + (p2 * p2))) + x[1]));
            let mut v5 = ((0.5_f64 + (q3 * q3)).powf(x[1].tanh()) * x[0]).ln_1p();
        } else {
            for i6 in 0..=4 {
                let mut v7 = t1.1;
                let mut v8 = (0.5_f64 + ((0.9_f64 * x[1].tanh()).acos() * (0.9_f64 * x[1].tanh()).acos())).powf(std::f64::consts::LN_2.tanh());
                let v7 = (v7 + (0.5_f64 + ((0.9_f64 * v8.tanh()).acos() * (0.9_f64 * v8.tanh()).acos())).powf(((i6 as f64) + v7).atan()));
            }
            for (i9, &xv10) in x.iter().enumerate() {
                let (p11, q12): (f64, f64) = (((i9 as f64) + x[1]), (t1.1.tanh() + x[0]));
                let (p13, q14): (f64, f64) = (((p11 + xv10) + x[2]), (x[i9 % x.len()].min(t1.0) + x[1]));
            }
        }
        if g_33_1(x[0], x[0]) < x[0] {
            let mut v15 = (0.5_f64 + (t1.0.round() * t1.0.round())).ln();
            for i16 in 1..=4 {
                if (x[1] * 0.5_f64) < 1.6_f64 { continue; }
                if i16 % 3 == 1 { return (0.9_f64 * (if t1.0 > x[(i16 * 2) % x.len()] { v15 } else { (-1.5_f64) }).tanh()).atanh(); }
                let mut v17 = (1.5_f64 * x[(i16 * 3) % 3].cos()).exp_m1();
                let mut v18 = ((1.2_f64 * x[(i16 + 1) % 3].tanh()).tan() + (v15 * v17));
            }
        }
        let mut v19 = (1.5_f64 * x[0].atan()).exp_m1();
    } else {
        if ((x[0] + t1.1) > x[1]) && (x[1] < t1.1) {
            let mut v20 = (1.5_f64 * (0.0_f64 + (std::f64::consts::FRAC_1_SQRT_2 * std::f64::consts::FRAC_1_SQRT_2)).ln_1p().atan()).sinh();
            for i21 in 0..2 {
                let mut v22 = (if v20 < 2.0_f64 { (x[0] + x[2]) } else { x[(i21 * 3) % x.len()].atan2((i21 as f64)) });
                let mut v23 = ((1.5_f64 * x[2].cos()).exp2() - (0.5_f64 + ((i21 as f64) * (i21 as f64))).ln());
            }
        } else {
            for i24 in (0..2).rev() {
                let t25: (f64, f64) = (((-1.6_f64) + x[2]), (t1.1 + x[0]));
                let mut v26 = (((-1.1_f64) - x[(i24 + 3) % 3]) - (i24 as f64));
                v26 *= (0.5_f64 + ((if t25.1 < 0.9_f64 { 0.7_f64 } else { (i24 as f64) }) * (if t25.1 < 0.9_f64 { 0.7_f64 } else { (i24 as f64) }))).powi(-2).sin();
            }
        }
        let mut v27 = t1.0;
    }
    if t1.0 < 1.5_f64 {
        let mut v28 = t1.1;
        let mut v29 = ((if x[0].max(x[0]) > x[1] { v28.abs() } else { v28 }) * 0.6_f64.hypot(v28).atan());
    } else {
        let mut k30: usize = 0;
        while k30 < 6 && (std::f64::consts::PI < 0.1_f64) {
            k30 += 1;
            for i31 in 0..=1 {
                let (p32, q33): (f64, f64) = (((0.9_f64 * 0.5_f64.tanh()).asin() + x[1]), ((-1.9_f64) + x[2]));
                let mut v34 = x[(i31 * 2) % 3].min(x[(k30 + 2) % 3]);
            }
            let mut k35: usize = 0;
            loop {
                if k35 >= 1 { break; }
                k35 += 1;
                let t36: (f64, f64) = ((t1.1.hypot((k35 as f64)) + x[1]), ((x[(k35 + 2) % x.len()] / (1.0_f64 + ((k30 as f64) * (k30 as f64)))) + x[2]));
                let mut v37 = (0.5_f64 + (((k30 as f64) + x[(k35 + 3) % x.len()]) * ((k30 as f64) + x[(k35 + 3) % x.len()]))).ln();
                v37 += ((v37 / (1.0_f64 + (v37 * v37))) * x[(k35 + 3) % x.len()]);
                let mut v38 = (x[(k30 * 3) % 3] - (-(k30 as f64)));
            }
        }
        for i39 in 0..x.len() - 1 {
            let mut v40 = (0.5_f64 + ((-1.8_f64).min(x[(k30 * 2) % 3]) * (-1.8_f64).min(x[(k30 * 2) % 3]))).powi(-2);
            let v40 = (v40 + (if k30 % 3 == 1 { (-v40) } else { (-(i39 as f64)) }));
        }
    }
    let mut k41: usize = 0;
    while k41 < 5 && (f64::sqrt((0.5_f64 + (1.0_f64 * 1.0_f64))) < 1.2_f64) {
        k41 += 1;
        for i42 in 0..x.len() {
            let mut k43: usize = 0;
            loop {
                if k43 >= 5 { break; }
                k43 += 1;
                let mut v44 = ((x[(i42 * 3) % x.len()] + (-1.0_f64)) + (-1.7_f64));
                let mut v45 = ((v44 / (1.0_f64 + (v44 * v44))) * x[k41 % 3]);
                let mut v46 = (-1.8_f64);
            }
            for i47 in 0..x.len() - 1 {
                let mut v48 = (1.5_f64 * (x[(k41 + 2) % x.len()] * (-0.2_f64)).atan()).exp();
                let mut v49 = (x[(k43 + 1) % 3].max(v48) - (x[(k41 * 2) % x.len()] + x[k41 % x.len()]));
            }
            if t1.0 < x[0] {
                let t50: (f64, f64) = (((i42 as f64) + x[2]), ((0.9_f64 * t1.0.tanh()).atanh() + x[0]));
                let mut v51 = (((-1.8_f64) + t50.0) + t50.1.atan2((-0.4_f64)));
                let t52: (f64, f64) = ((v51.cos().powi(2) + x[2]), ((0.5_f64 + (v51 * v51)).recip() + x[1]));
            }
            if (i42 as f64) < 0.6_f64 { return (1.2_f64 * ((i42 as f64) + x[(k41 * 3) % 3]).tanh()).tan(); }
        }
        if (-x[(k41 + 3) % 3]) > (-0.2_f64) {
            let mut v53 = ((-0.7_f64) + (0.5_f64 + (x[(k41 * 2) % x.len()] * x[(k41 * 2) % x.len()])).powf(x[0].cos()));
        } else {
            let (p54, q55): (f64, f64) = (((x[(k41 * 2) % 3] + t1.0) + x[1]), ((x[0] + x[k41 % 3]) + x[2]));
            if f64::signum((k41 as f64)) > x[k41 % x.len()] {
                let p54 = (p54 + (if k41 % 3 == 1 { x[(k41 * 3) % x.len()] } else { t1.0 }).atan());
                let (p56, q57): (f64, f64) = (((0.5_f64 + (x[(k41 * 2) % 3] * x[(k41 * 2) % 3])).powi(-1) + x[0]), ((0.0_f64 + (0.4_f64 * 0.4_f64)).ln_1p() + x[1]));
                let t58: (f64, f64) = ((q57 + x[1]), ((t1.1 / (1.0_f64 + (p56 * p56))) + x[2]));
            } else {
                let t59: (f64, f64) = (((1.5_f64 * x[(k41 + 2) % x.len()].sin()).sinh() + x[0]), ((if k41 % 3 == 1 { p54 } else { 1.1_f64 }) + x[1]));
                let mut v60 = p54;
                v60 -= (1.5_f64 * 1.4_f64.atan()).exp_m1();
            }
            if (1.5_f64 * (-0.6_f64).sin()).sinh() < (-0.9_f64) {
                let t61: (f64, f64) = (((0.5_f64 + (x[0] * x[0])).powf(p54.atan()) + x[2]), ((0.5_f64 + (t1.1 * t1.1)).log10() + x[2]));
            }
        }
        for &xv63 in x.iter() {
            for (i64, &xv65) in x.iter().enumerate() {
                let mut v66 = x[(k41 + 1) % 3];
                v66 *= xv63.tanh();
            }
            for i67 in (0..1).step_by(2) {
                let t68: (f64, f64) = (((0.9_f64 * xv63.tanh()).asin() + x[2]), ((x[1] + x[1]) + x[2]));
                let mut v69 = (x[i67 % x.len()] + (0.5_f64 + (x[(i67 * 2) % x.len()] * x[(i67 * 2) % x.len()])).powi(-2));
            }
            if xv63.round() > x[(k41 + 1) % x.len()] {
                let mut v70 = ((xv63 / (1.0_f64 + ((-0.2_f64) * (-0.2_f64)))) * (0.5_f64 + ((-1.9_f64) * (-1.9_f64))).powi(-1));
            }
            for i71 in (0..3).rev() {
                let t72: (f64, f64) = (((x[i71 % 3] * x[1]) + x[1]), (x[0] + x[2]));
                if ((0.9_f64 * xv63.tanh()).acos() > 1.6_f64) && (i71 % 2 == 0) { break; }
                let mut v73 = xv63;
                let (p74, q75): (f64, f64) = (((t1.0 + xv63) + x[0]), (x[(k41 * 3) % 3] + x[0]));
            }
        }
        for i76 in 1..=x.len() {
            let (p77, q78): (f64, f64) = (((x[k41 % x.len()] + (k41 as f64)) + x[0]), (x[(i76 + 1) % x.len()] + x[2]));
            let t79: (f64, f64) = (((-x[k41 % x.len()]) + x[0]), ((i76 as f64) + x[2]));
            for (i80, &xv81) in x.iter().enumerate() {
                let (p82, q83): (f64, f64) = ((g_33_0(q78, q78) + x[1]), ((x[(i80 * 2) % 3] * (i80 as f64)) + x[2]));
            }
        }
    }
    let (p84, q85): (f64, f64) = (((-std::f64::consts::E).ceil() + x[2]), (2.0_f64 + x[0]));
    let mut v86 = q85.ceil();
    v86 -= (x[k41 % 3] * ((k41 as f64) + x[1])).ln_1p();
    (((((p84 * (-0.4_f64)) + x[2]) + v86) + q85) + p84)
}
