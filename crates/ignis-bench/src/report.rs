//! The invoke comparison table (Ignis and its peers, one row per server and function) and the
//! ratios the performance targets are stated in.

use crate::invoke::{Row, CLIENTS};

fn ms(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.3}"),
        _ => "-".into(),
    }
}

/// Print the table and the Ignis/peer ratios.
pub fn print(rows: &[Row]) {
    let tput_head: Vec<String> = CLIENTS.iter().map(|c| format!("{c:>2} cl/s")).collect();
    println!();
    println!("invoke comparison (payload {{\"ping\":1}}, one keep-alive HTTP/1.1 client per connection, loopback; ms unless noted;");
    println!("  cpu us = server + function processes' CPU per warm invoke; cl/s = invokes/s with that many clients)");
    println!(
        "{:<19} {:<28} {:>8} {:>8} {:>8} | {:>7} {:>7} {:>7} | {}",
        "server",
        "function",
        "cold p50",
        "cold p99",
        "init p50",
        "warm p50",
        "p99",
        "cpu us",
        tput_head
            .iter()
            .map(|h| format!("{h:>8}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    for r in rows {
        let tput: Vec<String> = CLIENTS
            .iter()
            .map(|c| {
                r.tput
                    .iter()
                    .find(|(n, _)| n == c)
                    .map_or("-".into(), |(_, v)| format!("{v:>8.0}"))
            })
            .collect();
        println!(
            "{:<19} {:<28} {:>8} {:>8} {:>8} | {:>8.3} {:>7.3} {:>7} | {}",
            r.server,
            r.function,
            ms(r.cold.as_ref().map(|c| c.pct(0.5))),
            ms(r.cold.as_ref().map(|c| c.pct(0.99))),
            ms(r.init_p50),
            r.warm.pct(0.5),
            r.warm.pct(0.99),
            r.cpu_us.map_or("-".into(), |c| format!("{c:.0}")),
            tput.join(" ")
        );
    }
    let find = |server: &str, function: &str| {
        rows.iter()
            .find(|r| r.server == server && r.function.starts_with(function))
    };
    let pairs = [
        ("rust echo", "cargo lambda watch"),
        ("python echo", "serverless-offline"),
    ];
    for (function, peer) in pairs {
        let (Some(i), Some(p)) = (find("ignis", function), find(peer, function)) else {
            continue;
        };
        let tput = |r: &Row, c: usize| r.tput.iter().find(|(n, _)| *n == c).map(|(_, v)| *v);
        let mut line = format!(
            "{function}: ignis/{peer} warm p50 {:.2}x  p99 {:.2}x",
            i.warm.pct(0.5) / p.warm.pct(0.5),
            i.warm.pct(0.99) / p.warm.pct(0.99)
        );
        for c in [1usize, 4] {
            if let (Some(a), Some(b)) = (tput(i, c), tput(p, c)) {
                line.push_str(&format!("  throughput {c} cl {:.2}x", a / b));
            }
        }
        if let (Some(a), Some(b)) = (&i.cold, &p.cold) {
            line.push_str(&format!("  cold p50 {:.2}x", a.pct(0.5) / b.pct(0.5)));
        }
        println!("{line}  (latency <1 and throughput >1 favour ignis)");
    }
}
