//! `ignis usage`: a month's bill per account from the metered usage in DATA_DIR/meta.db (read-only,
//! safe while the server runs), with the free tier applied, as a table or CSV.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use ignis_observe::metering::{self, Bill, Prices};

/// Arguments of `ignis usage`.
#[derive(clap::Args, Debug)]
pub struct UsageArgs {
    /// Month to bill, YYYY-MM (UTC; default: the current month).
    #[arg(long)]
    month: Option<String>,
    /// Print CSV instead of a table.
    #[arg(long)]
    csv: bool,
    /// Bill only this account (default: every account with usage).
    #[arg(long)]
    account_id: Option<String>,
    /// The server's data directory.
    #[arg(long, env = "IGNIS_DATA_DIR", default_value = "./ignis-data")]
    data_dir: PathBuf,
    /// USD per one million requests.
    #[arg(long, default_value_t = 0.20)]
    price_per_million_requests: f64,
    /// USD per GB-second of compute.
    #[arg(long, default_value_t = 0.000_016_666_7)]
    price_per_gb_second: f64,
    /// USD per GB-second of provisioned concurrency.
    #[arg(long, default_value_t = 0.000_004_166_7)]
    price_per_provisioned_gb_second: f64,
    /// Free requests per month.
    #[arg(long, default_value_t = 1_000_000)]
    free_requests: u64,
    /// Free GB-seconds of compute per month.
    #[arg(long, default_value_t = 400_000.0)]
    free_gb_seconds: f64,
}

fn valid_month(m: &str) -> bool {
    let b = m.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit)
        && matches!(m[5..].parse::<u8>(), Ok(1..=12))
}

/// Run `ignis usage`.
pub async fn run(args: UsageArgs) -> anyhow::Result<()> {
    let month = args.month.clone().unwrap_or_else(metering::utc_month);
    anyhow::ensure!(valid_month(&month), "--month must be YYYY-MM");
    for (name, v) in [
        (
            "--price-per-million-requests",
            args.price_per_million_requests,
        ),
        ("--price-per-gb-second", args.price_per_gb_second),
        (
            "--price-per-provisioned-gb-second",
            args.price_per_provisioned_gb_second,
        ),
        ("--free-gb-seconds", args.free_gb_seconds),
    ] {
        anyhow::ensure!(v.is_finite() && v >= 0.0, "{name} must be a number >= 0");
    }
    let prices = Prices {
        per_million_requests: args.price_per_million_requests,
        per_gb_second: args.price_per_gb_second,
        per_provisioned_gb_second: args.price_per_provisioned_gb_second,
        free_requests: args.free_requests,
        free_gb_seconds: args.free_gb_seconds,
    };
    let db = args.data_dir.join("meta.db");
    anyhow::ensure!(db.is_file(), "no Ignis database at {}", db.display());
    let reader = ignis_store::usage::UsageReader::open(&db)
        .await
        .with_context(|| format!("opening {} read-only", db.display()))?;
    let rows = reader.list(&month).await.context("reading usage")?;
    reader.close().await;
    let mut accounts: Vec<String> = match &args.account_id {
        Some(a) => vec![a.clone()],
        None => rows.iter().map(|r| r.account.clone()).collect(),
    };
    accounts.sort();
    accounts.dedup();
    let bills: Vec<Bill> = accounts
        .iter()
        .map(|a| metering::bill(a, &month, &rows, prices))
        .collect();
    let out = if args.csv {
        csv(&bills)
    } else if bills.is_empty() {
        format!("No usage recorded in {month} (UTC).\n")
    } else {
        bills.iter().map(table).collect::<Vec<_>>().join("\n")
    };
    print!("{out}");
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// CSV: one row per function (usage only), then a `TOTAL` row per account with the bill.
fn csv(bills: &[Bill]) -> String {
    let mut out = String::from(
        "account,month,function,requests,gb_seconds,provisioned_gb_seconds,billable_requests,\
         billable_gb_seconds,request_charge_usd,compute_charge_usd,provisioned_charge_usd,total_usd\n",
    );
    for b in bills {
        for f in &b.functions {
            let _ = writeln!(
                out,
                "{},{},{},{},{:.6},{:.6},,,,,,",
                b.account,
                b.month,
                csv_field(&f.function_name),
                f.requests,
                f.gb_seconds(),
                f.provisioned_gb_seconds()
            );
        }
        let _ = writeln!(
            out,
            "{},{},TOTAL,{},{:.6},{:.6},{},{:.6},{:.2},{:.2},{:.2},{:.2}",
            b.account,
            b.month,
            b.requests,
            b.gb_seconds,
            b.provisioned_gb_seconds,
            b.billable_requests,
            b.billable_gb_seconds,
            b.request_charge,
            b.compute_charge,
            b.provisioned_charge,
            b.total
        );
    }
    out
}

fn table(b: &Bill) -> String {
    let p = &b.prices;
    let mut out = String::new();
    let _ = writeln!(out, "Account {}, {} (UTC)\n", b.account, b.month);
    let _ = writeln!(
        out,
        "{:<40} {:>14} {:>18} {:>18}",
        "FUNCTION", "REQUESTS", "GB-SECONDS", "PROVISIONED GB-S"
    );
    for f in &b.functions {
        let _ = writeln!(
            out,
            "{:<40} {:>14} {:>18.6} {:>18.6}",
            f.function_name,
            f.requests,
            f.gb_seconds(),
            f.provisioned_gb_seconds()
        );
    }
    let _ = writeln!(
        out,
        "{:<40} {:>14} {:>18.6} {:>18.6}\n",
        "TOTAL", b.requests, b.gb_seconds, b.provisioned_gb_seconds
    );
    let _ = writeln!(
        out,
        "{:<26} {:>18} {:>16} {:>18} {:>16} {:>10}",
        "CHARGE", "USAGE", "FREE TIER", "BILLABLE", "UNIT PRICE", "AMOUNT"
    );
    let _ = writeln!(
        out,
        "{:<26} {:>18} {:>16} {:>18} {:>16} {:>10}",
        "Requests",
        b.requests,
        p.free_requests,
        b.billable_requests,
        format!("${}/1M", p.per_million_requests),
        format!("${:.2}", b.request_charge)
    );
    let _ = writeln!(
        out,
        "{:<26} {:>18.6} {:>16} {:>18.6} {:>16} {:>10}",
        "Compute (GB-s)",
        b.gb_seconds,
        p.free_gb_seconds,
        b.billable_gb_seconds,
        format!("${}", p.per_gb_second),
        format!("${:.2}", b.compute_charge)
    );
    let _ = writeln!(
        out,
        "{:<26} {:>18.6} {:>16} {:>18.6} {:>16} {:>10}",
        "Provisioned conc. (GB-s)",
        b.provisioned_gb_seconds,
        0,
        b.provisioned_gb_seconds,
        format!("${}", p.per_provisioned_gb_second),
        format!("${:.2}", b.provisioned_charge)
    );
    let _ = writeln!(out, "{:<26} {:>82}", "TOTAL", format!("${:.2}", b.total));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_validated() {
        assert!(valid_month("2026-11") && valid_month("2026-01"));
        for bad in [
            "2026-13", "2026-00", "2026-1", "26-11-01", "2026/11", "abcd-ef",
        ] {
            assert!(!valid_month(bad), "{bad}");
        }
    }

    #[test]
    fn csv_has_function_rows_and_a_total() {
        let rows = [ignis_store::usage::UsageRow {
            account: "123456789012".into(),
            function_name: "f".into(),
            day: "2026-11-02".into(),
            requests: 3,
            mb_ms: 256 * 153,
            provisioned_mb_ms: 0,
        }];
        let b = metering::bill("123456789012", "2026-11", &rows, Prices::default());
        let out = csv(&[b]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1], "123456789012,2026-11,f,3,0.038250,0.000000,,,,,,");
        assert_eq!(
            lines[2],
            "123456789012,2026-11,TOTAL,3,0.038250,0.000000,0,0.000000,0.00,0.00,0.00,0.00"
        );
    }
}
