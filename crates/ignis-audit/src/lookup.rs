//! CloudTrail `LookupEvents` over the trail: newest first, one optional lookup attribute, a time
//! range, pages of at most 50 with an opaque `NextToken`.

use std::io::{BufRead, BufReader};
use std::path::Path;

use base64::Engine;
use ignis_core::AwsError;
use serde_json::{json, Value};

use crate::chain::Line;
use crate::record::AuditEvent;
use crate::trail::segments;

/// CloudTrail's JSON 1.1 target prefix.
pub const TARGET_PREFIX: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";

const ATTRIBUTE_KEYS: &[&str] = &[
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
];

fn err(code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError::other(code, 400, message)
}

/// Answer a CloudTrail operation (only `LookupEvents` exists here).
pub fn handle(dir: &Path, operation: &str, input: &Value) -> Result<Value, AwsError> {
    match operation {
        "LookupEvents" => lookup_events(dir, input),
        other => Err(err(
            "UnsupportedOperationException",
            format!("The operation {other} is not supported by this server."),
        )),
    }
}

struct Filter {
    key: Option<String>,
    value: String,
    start: Option<f64>,
    end: Option<f64>,
}

fn time_of(v: Option<&Value>) -> Result<Option<f64>, AwsError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) => parse_time(s)
            .map(Some)
            .ok_or_else(|| err("InvalidTimeRangeException", "Invalid time range.")),
        Some(_) => Err(err("InvalidTimeRangeException", "Invalid time range.")),
    }
}

fn parse_time(s: &str) -> Option<f64> {
    if let Ok(n) = s.parse::<f64>() {
        return Some(n);
    }
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp() as f64)
}

fn lookup_events(dir: &Path, input: &Value) -> Result<Value, AwsError> {
    let max = match input.get("MaxResults") {
        None | Some(Value::Null) => 50,
        Some(v) => match v.as_i64() {
            Some(n) if (1..=50).contains(&n) => n as usize,
            _ => {
                return Err(err(
                    "InvalidMaxResultsException",
                    "Value for parameter MaxResults is not valid. It must be between 1 and 50.",
                ))
            }
        },
    };
    if let Some(cat) = input.get("EventCategory").and_then(Value::as_str) {
        if cat != "insight" {
            return Err(err(
                "InvalidEventCategoryException",
                format!("Event category {cat} is not valid."),
            ));
        }
        return Ok(json!({ "Events": [] }));
    }
    let attrs = input
        .get("LookupAttributes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if attrs.len() > 1 {
        return Err(err(
            "InvalidLookupAttributesException",
            "You can only specify one lookup attribute.",
        ));
    }
    let mut filter = Filter {
        key: None,
        value: String::new(),
        start: time_of(input.get("StartTime"))?,
        end: time_of(input.get("EndTime"))?,
    };
    if let Some(a) = attrs.first() {
        let key = a.get("AttributeKey").and_then(Value::as_str).unwrap_or("");
        if !ATTRIBUTE_KEYS.contains(&key) {
            return Err(err(
                "InvalidLookupAttributesException",
                format!("Lookup attribute key {key} is not valid."),
            ));
        }
        filter.key = Some(key.to_string());
        filter.value = a
            .get("AttributeValue")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
    }
    if let (Some(s), Some(e)) = (filter.start, filter.end) {
        if s > e {
            return Err(err(
                "InvalidTimeRangeException",
                "Start time must be before end time.",
            ));
        }
    }
    let token = match input.get("NextToken").and_then(Value::as_str) {
        Some(t) => Some(decode_token(t).ok_or_else(|| {
            err(
                "InvalidNextTokenException",
                "Invalid next token. Please try again with a valid next token.",
            )
        })?),
        None => None,
    };
    let records_dir = dir.join("records");
    let mut events = Vec::new();
    let mut next = None;
    let names = segments(&records_dir).map_err(|_| AwsError::internal())?;
    'outer: for name in names.iter().rev() {
        if let Some((tseg, _)) = &token {
            if name > tseg {
                continue;
            }
        }
        let Ok(file) = std::fs::File::open(records_dir.join(name)) else {
            continue;
        };
        let lines: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
        for (i, line) in lines.iter().enumerate().rev() {
            let n = i as u64 + 1;
            if let Some((tseg, tline)) = &token {
                if name == tseg && n >= *tline {
                    continue;
                }
            }
            let Ok(parsed) = serde_json::from_str::<Line<'_>>(line) else {
                continue;
            };
            let Ok(record) = serde_json::from_str::<AuditEvent>(parsed.record.get()) else {
                continue;
            };
            if !matches(&record, &filter) {
                continue;
            }
            if events.len() == max {
                next = Some(encode_token(name, n + 1));
                break 'outer;
            }
            events.push(event_json(&record, parsed.record.get()));
        }
    }
    let mut out = json!({ "Events": events });
    if let Some(t) = next {
        out["NextToken"] = Value::String(t);
    }
    Ok(out)
}

fn matches(r: &AuditEvent, f: &Filter) -> bool {
    let t = parse_time(&r.event_time).unwrap_or(0.0);
    if f.start.is_some_and(|s| t < s) || f.end.is_some_and(|e| t > e) {
        return false;
    }
    let v = f.value.as_str();
    match f.key.as_deref() {
        None => true,
        Some("EventId") => r.event_id == v,
        Some("EventName") => r.event_name == v,
        Some("ReadOnly") => r.read_only.to_string() == v,
        Some("Username") => r.user_identity.user_name == v,
        Some("ResourceType") => r.resources.iter().any(|x| x.kind == v),
        Some("ResourceName") => r
            .resources
            .iter()
            .any(|x| x.arn == v || short_name(&x.arn) == v),
        Some("EventSource") => r.event_source == v,
        Some("AccessKeyId") => r.user_identity.access_key_id == v,
        Some(_) => false,
    }
}

/// The name part of an ARN (`function:f` → `f`, `role/r` → `r`).
fn short_name(arn: &str) -> &str {
    let rest = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    let rest = rest.split_once([':', '/']).map(|(_, n)| n).unwrap_or(rest);
    rest.split(':').next().unwrap_or(rest)
}

fn event_json(r: &AuditEvent, raw: &str) -> Value {
    let resources: Vec<Value> = r
        .resources
        .iter()
        .map(|x| json!({"ResourceType": x.kind, "ResourceName": x.arn}))
        .collect();
    let mut e = json!({
        "EventId": r.event_id,
        "EventName": r.event_name,
        "ReadOnly": r.read_only.to_string(),
        "EventTime": parse_time(&r.event_time).unwrap_or(0.0),
        "EventSource": r.event_source,
        "Resources": resources,
        "CloudTrailEvent": raw,
    });
    if !r.user_identity.access_key_id.is_empty() {
        e["AccessKeyId"] = Value::String(r.user_identity.access_key_id.clone());
    }
    if !r.user_identity.user_name.is_empty() {
        e["Username"] = Value::String(r.user_identity.user_name.clone());
    }
    e
}

fn encode_token(segment: &str, line: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{segment}:{line}"))
}

fn decode_token(token: &str) -> Option<(String, u64)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (seg, line) = text.rsplit_once(':')?;
    if !seg.ends_with(".jsonl") || seg.contains('/') {
        return None;
    }
    Some((seg.to_string(), line.parse().ok()?))
}
