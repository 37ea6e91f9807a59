//! Condition operators: String*, Arn*, Numeric*, Date*, Bool, Binary, IpAddress/NotIpAddress, Null,
//! the `...IfExists` suffix and the `ForAllValues:`/`ForAnyValue:` set qualifiers.

use std::net::IpAddr;

use super::eval::RequestContext;
use super::variables;
use super::wildcard::{self, Tok};
use super::PolicyError;

/// A condition operator without its `IfExists` suffix or set qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl Operator {
    fn parse(name: &str) -> Option<Self> {
        use Operator::*;
        Some(match name {
            "StringEquals" => StringEquals,
            "StringNotEquals" => StringNotEquals,
            "StringEqualsIgnoreCase" => StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => StringNotEqualsIgnoreCase,
            "StringLike" => StringLike,
            "StringNotLike" => StringNotLike,
            "NumericEquals" => NumericEquals,
            "NumericNotEquals" => NumericNotEquals,
            "NumericLessThan" => NumericLessThan,
            "NumericLessThanEquals" => NumericLessThanEquals,
            "NumericGreaterThan" => NumericGreaterThan,
            "NumericGreaterThanEquals" => NumericGreaterThanEquals,
            "DateEquals" => DateEquals,
            "DateNotEquals" => DateNotEquals,
            "DateLessThan" => DateLessThan,
            "DateLessThanEquals" => DateLessThanEquals,
            "DateGreaterThan" => DateGreaterThan,
            "DateGreaterThanEquals" => DateGreaterThanEquals,
            "Bool" => Bool,
            "BinaryEquals" => BinaryEquals,
            "IpAddress" => IpAddress,
            "NotIpAddress" => NotIpAddress,
            "ArnEquals" => ArnEquals,
            "ArnLike" => ArnLike,
            "ArnNotEquals" => ArnNotEquals,
            "ArnNotLike" => ArnNotLike,
            "Null" => Null,
            _ => return None,
        })
    }

    /// Negated operators are true when no context value matches (and when the key is absent).
    fn negated(self) -> bool {
        use Operator::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    /// The positive counterpart of a negated operator (itself otherwise).
    fn positive(self) -> Self {
        use Operator::*;
        match self {
            StringNotEquals => StringEquals,
            StringNotEqualsIgnoreCase => StringEqualsIgnoreCase,
            StringNotLike => StringLike,
            NumericNotEquals => NumericEquals,
            DateNotEquals => DateEquals,
            NotIpAddress => IpAddress,
            ArnNotEquals => ArnEquals,
            ArnNotLike => ArnLike,
            other => other,
        }
    }
}

/// `ForAllValues:` / `ForAnyValue:` or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    /// No qualifier: any context value against any policy value.
    Single,
    /// Every context value must match (true when the key is absent or empty).
    ForAllValues,
    /// At least one context value must match (false when the key is absent).
    ForAnyValue,
}

/// One `operator: { key: values }` test.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The operator.
    pub op: Operator,
    /// Set qualifier.
    pub set: SetQualifier,
    /// `...IfExists`: true when the key is absent.
    pub if_exists: bool,
    /// Condition key (compared case-insensitively).
    pub key: String,
    /// Policy values (ORed).
    pub values: Vec<String>,
}

/// Parse one `"Operator": {"key": value-or-values, ...}` block into conditions.
pub(crate) fn parse_block(
    name: &str,
    body: &serde_json::Value,
) -> Result<Vec<Condition>, PolicyError> {
    let (set, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
        (SetQualifier::ForAllValues, r)
    } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
        (SetQualifier::ForAnyValue, r)
    } else {
        (SetQualifier::Single, name)
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(b) if b != "Null" => (b, true),
        _ => (rest, false),
    };
    let op = Operator::parse(base)
        .ok_or_else(|| PolicyError::new(format!("Invalid Condition type : {name}")))?;
    let obj = body
        .as_object()
        .ok_or_else(|| PolicyError::new("Syntax errors in policy."))?;
    let mut out = Vec::with_capacity(obj.len());
    for (key, value) in obj {
        if !key.contains(':') {
            return Err(PolicyError::new(
                "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
            ));
        }
        let values = match value {
            serde_json::Value::Array(items) => {
                items.iter().map(scalar).collect::<Result<Vec<_>, _>>()?
            }
            v => vec![scalar(v)?],
        };
        out.push(Condition {
            op,
            set,
            if_exists,
            key: key.clone(),
            values,
        });
    }
    Ok(out)
}

fn scalar(v: &serde_json::Value) -> Result<String, PolicyError> {
    match v {
        serde_json::Value::String(s) => Ok(s.clone()),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        _ => Err(PolicyError::new("Syntax errors in policy.")),
    }
}

impl Condition {
    /// Evaluate against the request context. `vars` enables policy variables in values.
    pub fn holds(&self, ctx: &RequestContext, vars: bool) -> bool {
        let present = ctx.get(&self.key);
        if self.op == Operator::Null {
            let absent = present.is_none_or(|v| v.is_empty());
            return self
                .values
                .iter()
                .any(|v| v.eq_ignore_ascii_case("true") == absent);
        }
        let Some(ctx_values) = present.filter(|v| !v.is_empty()) else {
            return match self.set {
                SetQualifier::ForAllValues => true,
                SetQualifier::ForAnyValue => false,
                SetQualifier::Single => self.if_exists || self.op.negated(),
            };
        };
        let negated = self.op.negated();
        let positive = self.op.positive();
        // Does one context value match any policy value under the positive operator?
        let any_match = |cv: &str| {
            self.values
                .iter()
                .any(|pv| compare(positive, pv, cv, ctx, vars))
        };
        match self.set {
            SetQualifier::Single => {
                let hit = ctx_values.iter().any(|cv| any_match(cv));
                hit != negated
            }
            SetQualifier::ForAllValues => ctx_values.iter().all(|cv| any_match(cv) != negated),
            SetQualifier::ForAnyValue => ctx_values.iter().any(|cv| any_match(cv) != negated),
        }
    }
}

/// Compare policy value `pv` with context value `cv` under a positive operator.
fn compare(op: Operator, pv: &str, cv: &str, ctx: &RequestContext, vars: bool) -> bool {
    use Operator::*;
    match op {
        StringEquals | StringLike | StringEqualsIgnoreCase => {
            let wild = op == StringLike;
            let Some(pat) = variables::compile(pv, ctx, vars, wild) else {
                return false;
            };
            wildcard::matches(&pat, cv, op == StringEqualsIgnoreCase)
        }
        ArnEquals | ArnLike => arn_like(pv, cv, ctx, vars),
        NumericEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => match (pv.trim().parse::<f64>(), cv.trim().parse::<f64>()) {
            (Ok(p), Ok(c)) => ordered(op, c.partial_cmp(&p)),
            _ => false,
        },
        DateEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => match (parse_date(pv), parse_date(cv)) {
            (Some(p), Some(c)) => ordered(op, c.partial_cmp(&p)),
            _ => false,
        },
        Bool => pv.eq_ignore_ascii_case(cv),
        BinaryEquals => pv == cv,
        IpAddress => ip_in_cidr(cv, pv),
        // Negated operators and Null never reach here.
        _ => false,
    }
}

fn ordered(op: Operator, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    use Operator::*;
    let Some(ord) = ord else { return false };
    match op {
        NumericEquals | DateEquals => ord == Equal,
        NumericLessThan | DateLessThan => ord == Less,
        NumericLessThanEquals | DateLessThanEquals => ord != Greater,
        NumericGreaterThan | DateGreaterThan => ord == Greater,
        NumericGreaterThanEquals | DateGreaterThanEquals => ord != Less,
        _ => false,
    }
}

/// ArnLike/ArnEquals: each of the six `:`-separated parts matched on its own, case-sensitively,
/// with wildcards (the last part keeps any further colons).
fn arn_like(pattern: &str, arn: &str, ctx: &RequestContext, vars: bool) -> bool {
    let Some(pat) = variables::compile(pattern, ctx, vars, true) else {
        return false;
    };
    let pat_parts = split_tokens(&pat);
    let arn_parts: Vec<&str> = arn.splitn(6, ':').collect();
    if pat_parts.len() != 6 || arn_parts.len() != 6 {
        // Not an ARN on either side: fall back to a whole-string match.
        return arn_parts.len() != 6 && wildcard::matches(&pat, arn, false);
    }
    pat_parts
        .iter()
        .zip(arn_parts)
        .all(|(p, a)| wildcard::matches(p, a, false))
}

fn split_tokens(pat: &[Tok]) -> Vec<Vec<Tok>> {
    let mut parts = vec![Vec::new()];
    for t in pat {
        if *t == Tok::Lit(':') && parts.len() < 6 {
            parts.push(Vec::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(*t);
        }
    }
    parts
}

/// Is `ip` inside `cidr` (`a.b.c.d/n`, IPv6 `x::/n`, or a bare address)?
fn ip_in_cidr(ip: &str, cidr: &str) -> bool {
    let Ok(ip) = ip.trim().parse::<IpAddr>() else {
        return false;
    };
    let (net, bits) = match cidr.trim().split_once('/') {
        Some((n, b)) => match b.parse::<u32>() {
            Ok(b) => (n, Some(b)),
            Err(_) => return false,
        },
        None => (cidr.trim(), None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let bits = bits.unwrap_or(32);
            if bits > 32 {
                return false;
            }
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            (u32::from(a) & mask) == (u32::from(n) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let bits = bits.unwrap_or(128);
            if bits > 128 {
                return false;
            }
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            (u128::from(a) & mask) == (u128::from(n) & mask)
        }
        _ => false,
    }
}

/// Seconds since the epoch of an ISO 8601 date/time (`2020-01-01`, `2020-01-01T12:00:00Z`,
/// `2020-01-01T12:00:00.123+02:00`) or of a plain epoch number.
pub(crate) fn parse_date(s: &str) -> Option<f64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') && !s.contains('-') {
        return s.parse().ok();
    }
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let year = num(0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = num(5, 2)?;
    let day = num(8, 2)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) as f64 * 86_400.0;
    if b.len() == 10 {
        return Some(secs);
    }
    if !matches!(b.get(10), Some(b'T') | Some(b't') | Some(b' ')) {
        return None;
    }
    let hour = num(11, 2)?;
    if b.get(13) != Some(&b':') {
        return None;
    }
    let minute = num(14, 2)?;
    let mut i = 16;
    let mut second = 0.0;
    if b.get(16) == Some(&b':') {
        second = num(17, 2)? as f64;
        i = 19;
        if b.get(19) == Some(&b'.') {
            let start = 20;
            let mut end = start;
            while b.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
            let frac: f64 = format!("0.{}", s.get(start..end)?).parse().ok()?;
            second += frac;
            i = end;
        }
    }
    if hour > 23 || minute > 59 || second >= 61.0 {
        return None;
    }
    secs += (hour * 3600 + minute * 60) as f64 + second;
    match s.get(i..)? {
        "" | "Z" | "z" => Some(secs),
        tz => {
            let sign = match tz.as_bytes().first()? {
                b'+' => 1.0,
                b'-' => -1.0,
                _ => return None,
            };
            let (h, m) = match tz[1..].split_once(':') {
                Some((h, m)) => (h, m),
                None if tz.len() == 5 => (&tz[1..3], &tz[3..5]),
                None => return None,
            };
            let h: i64 = h.parse().ok()?;
            let m: i64 = m.parse().ok()?;
            Some(secs - sign * (h * 3600 + m * 60) as f64)
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
