//! The CloudWatch Logs API subset (JSON 1.1, `X-Amz-Target: Logs_20140328.<Op>`) over the log
//! store: DescribeLogGroups, DescribeLogStreams, GetLogEvents, FilterLogEvents (what
//! `aws logs tail --follow` polls), CreateLogGroup, DeleteLogGroup, CreateLogStream,
//! DeleteLogStream, PutRetentionPolicy and DeleteRetentionPolicy. Shapes and error codes follow botocore's `logs/2014-03-28` model.

use ignis_core::{AwsError, ErrorKind};
use serde_json::{json, Map, Value};

use super::pattern::Pattern;
use super::store::{
    Direction, EventKey, GroupInfo, LogError, LogStore, Query, StreamInfo, StreamSelect,
};

/// Retention values PutRetentionPolicy accepts (the model's `Days` documentation).
pub const RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];
const GROUP_NAME_PATTERN: &str = r"[\.\-_/#A-Za-z0-9]+";
const DEFAULT_EVENTS_LIMIT: usize = 10_000;
const DESCRIBE_LIMIT: usize = 50;

fn err(code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError::new(ErrorKind::Other { code, status: 400 }, message)
}

fn invalid(message: impl Into<String>) -> AwsError {
    err("InvalidParameterException", message)
}

fn bad_token() -> AwsError {
    invalid("The specified nextToken is invalid.")
}

impl From<LogError> for AwsError {
    fn from(e: LogError) -> Self {
        match e {
            LogError::GroupNotFound | LogError::StreamNotFound => {
                err("ResourceNotFoundException", e.to_string())
            }
            LogError::GroupExists | LogError::StreamExists => {
                err("ResourceAlreadyExistsException", e.to_string())
            }
            LogError::Io(..) | LogError::Seal(_) => {
                tracing::error!(error = %e, "log store failure");
                AwsError::new(
                    ErrorKind::Other {
                        code: "ServiceUnavailableException",
                        status: 500,
                    },
                    "The service cannot complete the request.",
                )
            }
        }
    }
}

/// The CloudWatch Logs operations of one server.
#[derive(Debug, Clone)]
pub struct LogsApi {
    store: LogStore,
    region: String,
    account: String,
}

/// Typed access to the request's JSON members.
struct Input(Map<String, Value>);

impl Input {
    fn str(&self, key: &str) -> Result<Option<&str>, AwsError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(serialization(key)),
        }
    }

    fn int(&self, key: &str) -> Result<Option<i64>, AwsError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| serialization(key)),
        }
    }

    fn bool(&self, key: &str) -> Result<Option<bool>, AwsError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(serialization(key)),
        }
    }

    fn strings(&self, key: &str) -> Result<Option<Vec<String>>, AwsError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| serialization(key))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(serialization(key)),
        }
    }

    fn required(&self, key: &str) -> Result<&str, AwsError> {
        self.str(key)?.ok_or_else(|| {
            invalid(format!(
                "1 validation error detected: Value null at '{key}' failed to satisfy constraint: Member must not be null"
            ))
        })
    }

    /// `limit` within `1..=max`, or `default`.
    fn limit(&self, max: usize, default: usize) -> Result<usize, AwsError> {
        match self.int("limit")? {
            None => Ok(default),
            Some(n) if n < 1 => Err(invalid(format!(
                "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
            ))),
            Some(n) if n as u64 > max as u64 => Err(invalid(format!(
                "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to {max}"
            ))),
            Some(n) => Ok(n as usize),
        }
    }

    fn time(&self, key: &str) -> Result<Option<i64>, AwsError> {
        match self.int(key)? {
            Some(n) if n < 0 => Err(invalid(format!(
                "1 validation error detected: Value '{n}' at '{key}' failed to satisfy constraint: Member must have value greater than or equal to 0"
            ))),
            other => Ok(other),
        }
    }
}

fn serialization(key: &str) -> AwsError {
    err(
        "SerializationException",
        format!("Unexpected value type in payload for '{key}'"),
    )
}

fn check_group_name(name: &str, field: &str) -> Result<(), AwsError> {
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b'#'));
    if name.is_empty() || name.len() > 512 || !ok_chars {
        let constraint = if name.is_empty() || name.len() > 512 {
            "Member must have length less than or equal to 512".to_string()
        } else {
            format!("Member must satisfy regular expression pattern: {GROUP_NAME_PATTERN}")
        };
        return Err(invalid(format!(
            "1 validation error detected: Value '{name}' at '{field}' failed to satisfy constraint: {constraint}"
        )));
    }
    Ok(())
}

fn check_stream_name(name: &str, field: &str) -> Result<(), AwsError> {
    if name.is_empty() || name.len() > 512 || name.contains([':', '*']) {
        return Err(invalid(format!(
            "1 validation error detected: Value '{name}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*"
        )));
    }
    Ok(())
}

/// `f/<id>` or `b/<id>`: the direction and exclusive position of a continued read.
fn parse_token(token: &str) -> Result<(Direction, EventKey), AwsError> {
    let (dir, id) = match token.split_at_checked(2) {
        Some(("f/", id)) => (Direction::Forward, id),
        Some(("b/", id)) => (Direction::Backward, id),
        _ => return Err(bad_token()),
    };
    Ok((dir, EventKey::parse_id(id).ok_or_else(bad_token)?))
}

fn token(dir: Direction, key: EventKey) -> String {
    let d = match dir {
        Direction::Forward => "f",
        Direction::Backward => "b",
    };
    format!("{d}/{}", key.id())
}

const ZERO_KEY: EventKey = EventKey {
    timestamp: 0,
    segment: 0,
    offset: 0,
};

impl LogsApi {
    /// Serve the store for the account's region.
    pub fn new(store: LogStore, region: impl Into<String>, account: impl Into<String>) -> Self {
        Self {
            store,
            region: region.into(),
            account: account.into(),
        }
    }

    /// The store served.
    pub fn store(&self) -> &LogStore {
        &self.store
    }

    /// Run one operation (`operation` is the part of `X-Amz-Target` after `Logs_20140328.`).
    pub async fn handle(&self, operation: &str, input: Value) -> Result<Value, AwsError> {
        let api = self.clone();
        let operation = operation.to_string();
        tokio::task::spawn_blocking(move || api.handle_blocking(&operation, input))
            .await
            .map_err(|_| AwsError::internal())?
    }

    /// [`LogsApi::handle`] on the calling thread (it reads files).
    pub fn handle_blocking(&self, operation: &str, input: Value) -> Result<Value, AwsError> {
        let input = match input {
            Value::Object(m) => Input(m),
            Value::Null => Input(Map::new()),
            _ => {
                return Err(err(
                    "SerializationException",
                    "Start of structure or map found where not expected.",
                ))
            }
        };
        match operation {
            "DescribeLogGroups" => self.describe_log_groups(&input),
            "DescribeLogStreams" => self.describe_log_streams(&input),
            "GetLogEvents" => self.get_log_events(&input),
            "FilterLogEvents" => self.filter_log_events(&input),
            "CreateLogGroup" => self.create_log_group(&input),
            "DeleteLogGroup" => {
                let name = self.plain_group(&input)?;
                self.store.delete_group(&name)?;
                Ok(json!({}))
            }
            "CreateLogStream" | "DeleteLogStream" => {
                let group = self.plain_group(&input)?;
                let stream = input.required("logStreamName")?;
                check_stream_name(stream, "logStreamName")?;
                if operation == "CreateLogStream" {
                    self.store.create_stream(&group, stream)?;
                } else {
                    self.store.delete_stream(&group, stream)?;
                }
                Ok(json!({}))
            }
            "PutRetentionPolicy" => self.put_retention_policy(&input),
            "DeleteRetentionPolicy" => {
                let name = self.plain_group(&input)?;
                self.store.set_retention(&name, None)?;
                Ok(json!({}))
            }
            other => Err(err(
                "UnknownOperationException",
                format!("Operation {other} is not supported by this server."),
            )),
        }
    }

    fn group_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:logs:{}:{}:log-group:{name}",
            self.region, self.account
        )
    }

    /// `logGroupName` of operations that have only that member.
    fn plain_group(&self, input: &Input) -> Result<String, AwsError> {
        let name = input.required("logGroupName")?;
        check_group_name(name, "logGroupName")?;
        Ok(name.to_string())
    }

    /// `logGroupName` or `logGroupIdentifier` (a name or a log group ARN), exactly one.
    fn group_of(&self, input: &Input) -> Result<String, AwsError> {
        match (input.str("logGroupName")?, input.str("logGroupIdentifier")?) {
            (Some(_), Some(_)) => Err(invalid(
                "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
            )),
            (None, None) => Err(invalid(
                "Either logGroupName or logGroupIdentifier must be specified.",
            )),
            (Some(name), None) => {
                check_group_name(name, "logGroupName")?;
                Ok(name.to_string())
            }
            (None, Some(id)) => {
                let name = match id.strip_prefix("arn:") {
                    Some(rest) => {
                        let parts: Vec<&str> = rest.splitn(5, ':').collect();
                        match parts.as_slice() {
                            [_, "logs", _, _, res] if res.starts_with("log-group:") => {
                                res["log-group:".len()..].trim_end_matches(":*").to_string()
                            }
                            _ => return Err(invalid(format!("Invalid logGroupIdentifier: {id}"))),
                        }
                    }
                    None => id.to_string(),
                };
                check_group_name(&name, "logGroupIdentifier")?;
                Ok(name)
            }
        }
    }

    fn group_json(&self, g: &GroupInfo) -> Value {
        let arn = self.group_arn(&g.name);
        let mut v = json!({
            "logGroupName": g.name,
            "creationTime": g.creation_time,
            "metricFilterCount": 0,
            "arn": format!("{arn}:*"),
            "storedBytes": g.stored_bytes,
            "logGroupClass": "STANDARD",
            "logGroupArn": arn,
        });
        if let Some(days) = g.retention_days {
            v["retentionInDays"] = json!(days);
        }
        v
    }

    fn stream_json(&self, group: &str, s: &StreamInfo) -> Value {
        let mut v = json!({
            "logStreamName": s.name,
            "creationTime": s.creation_time,
            "arn": format!("{}:log-stream:{}", self.group_arn(group), s.name),
            "storedBytes": 0,
        });
        if let Some(t) = s.first_event {
            v["firstEventTimestamp"] = json!(t);
        }
        if let Some(t) = s.last_event {
            v["lastEventTimestamp"] = json!(t);
        }
        if let Some(t) = s.last_ingestion {
            v["lastIngestionTime"] = json!(t);
        }
        v
    }

    fn describe_log_groups(&self, input: &Input) -> Result<Value, AwsError> {
        let prefix = input.str("logGroupNamePrefix")?;
        let pattern = input.str("logGroupNamePattern")?;
        if prefix.is_some() && pattern.is_some() {
            return Err(invalid(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
            ));
        }
        if let Some(p) = prefix {
            check_group_name(p, "logGroupNamePrefix")?;
        }
        let limit = input.limit(DESCRIBE_LIMIT, DESCRIBE_LIMIT)?;
        let after = match input.str("nextToken")? {
            Some(t) => Some(
                hex::decode(t)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(bad_token)?,
            ),
            None => None,
        };
        let wanted: Vec<GroupInfo> = self
            .store
            .groups()
            .into_iter()
            .filter(|g| prefix.is_none_or(|p| g.name.starts_with(p)))
            .filter(|g| pattern.is_none_or(|p| g.name.contains(p)))
            .filter(|g| after.as_ref().is_none_or(|a| g.name.as_str() > a.as_str()))
            .collect();
        let page: Vec<&GroupInfo> = wanted.iter().take(limit).collect();
        let mut out = json!({
            "logGroups": page.iter().map(|g| self.group_json(g)).collect::<Vec<_>>(),
        });
        if wanted.len() > limit {
            if let Some(last) = page.last() {
                out["nextToken"] = json!(hex::encode(&last.name));
            }
        }
        Ok(out)
    }

    fn describe_log_streams(&self, input: &Input) -> Result<Value, AwsError> {
        let group = self.group_of(input)?;
        let prefix = input.str("logStreamNamePrefix")?;
        if let Some(p) = prefix {
            check_stream_name(p, "logStreamNamePrefix")?;
        }
        let by_time = match input.str("orderBy")? {
            None | Some("LogStreamName") => false,
            Some("LastEventTime") => true,
            Some(other) => {
                return Err(invalid(format!(
                    "1 validation error detected: Value '{other}' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]"
                )))
            }
        };
        if by_time && prefix.is_some() {
            return Err(invalid(
                "Cannot order by LastEventTime with a logStreamNamePrefix.",
            ));
        }
        let descending = input.bool("descending")?.unwrap_or(false);
        let limit = input.limit(DESCRIBE_LIMIT, DESCRIBE_LIMIT)?;
        let skip = match input.str("nextToken")? {
            Some(t) => t
                .strip_prefix("s/")
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(bad_token)?,
            None => 0,
        };
        let mut streams: Vec<StreamInfo> = self
            .store
            .streams(&group)?
            .into_iter()
            .filter(|s| prefix.is_none_or(|p| s.name.starts_with(p)))
            .collect();
        if by_time {
            streams.sort_by(|a, b| {
                (a.last_event.unwrap_or(0), &a.name).cmp(&(b.last_event.unwrap_or(0), &b.name))
            });
        }
        if descending {
            streams.reverse();
        }
        let page: Vec<Value> = streams
            .iter()
            .skip(skip)
            .take(limit)
            .map(|s| self.stream_json(&group, s))
            .collect();
        let mut out = json!({ "logStreams": page });
        if streams.len() > skip + limit {
            out["nextToken"] = json!(format!("s/{}", skip + limit));
        }
        Ok(out)
    }

    fn get_log_events(&self, input: &Input) -> Result<Value, AwsError> {
        let group = self.group_of(input)?;
        let stream = input.required("logStreamName")?;
        check_stream_name(stream, "logStreamName")?;
        let start = input.time("startTime")?;
        let end = input.time("endTime")?;
        let limit = input.limit(DEFAULT_EVENTS_LIMIT, DEFAULT_EVENTS_LIMIT)?;
        let from_head = input.bool("startFromHead")?.unwrap_or(false);
        let given = input.str("nextToken")?.map(parse_token).transpose()?;
        let (direction, cursor) = match given {
            Some((d, k)) => (d, Some(k)),
            None if from_head => (Direction::Forward, None),
            None => (Direction::Backward, None),
        };
        let page = self.store.read(
            &group,
            &StreamSelect::One(stream.to_string()),
            &Query {
                start,
                end,
                cursor,
                direction,
                limit,
                pattern: None,
            },
        )?;
        let mut events = page.events;
        if direction == Direction::Backward {
            events.reverse();
        }
        let (forward, backward) = match (events.first(), events.last()) {
            (Some(first), Some(last)) => (last.key, first.key),
            _ => {
                let k = cursor.unwrap_or(ZERO_KEY);
                (k, k)
            }
        };
        Ok(json!({
            "events": events.iter().map(|e| json!({
                "timestamp": e.timestamp,
                "message": e.message,
                "ingestionTime": e.ingestion_time,
            })).collect::<Vec<_>>(),
            "nextForwardToken": token(Direction::Forward, forward),
            "nextBackwardToken": token(Direction::Backward, backward),
        }))
    }

    fn filter_log_events(&self, input: &Input) -> Result<Value, AwsError> {
        let group = self.group_of(input)?;
        let names = input.strings("logStreamNames")?;
        let prefix = input.str("logStreamNamePrefix")?;
        let select = match (names, prefix) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.",
                ))
            }
            (Some(names), None) => {
                for n in &names {
                    check_stream_name(n, "logStreamNames")?;
                }
                StreamSelect::Names(names)
            }
            (None, Some(p)) => {
                check_stream_name(p, "logStreamNamePrefix")?;
                StreamSelect::Prefix(p.to_string())
            }
            (None, None) => StreamSelect::All,
        };
        let start = input.time("startTime")?;
        // FilterLogEvents' endTime is inclusive.
        let end = input.time("endTime")?.map(|t| t.saturating_add(1));
        let limit = input.limit(DEFAULT_EVENTS_LIMIT, DEFAULT_EVENTS_LIMIT)?;
        let pattern = match input.str("filterPattern")? {
            Some(p) if p.len() > 1024 => {
                return Err(invalid(
                    "1 validation error detected: Value at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to 1024",
                ))
            }
            Some(p) => Pattern::parse(p).map_err(|e| invalid(e.to_string()))?,
            None => Pattern::default(),
        };
        let (direction, cursor) = match input.str("nextToken")?.map(parse_token).transpose()? {
            Some((d, k)) => (d, Some(k)),
            None if input.bool("startFromHead")?.unwrap_or(true) => (Direction::Forward, None),
            None => (Direction::Backward, None),
        };
        let page = self.store.read(
            &group,
            &select,
            &Query {
                start,
                end,
                cursor,
                direction,
                limit,
                pattern: (!pattern.is_empty()).then_some(&pattern),
            },
        )?;
        let mut out = json!({
            "events": page.events.iter().map(|e| json!({
                "logStreamName": e.stream,
                "timestamp": e.timestamp,
                "message": e.message,
                "ingestionTime": e.ingestion_time,
                "eventId": e.key.id(),
            })).collect::<Vec<_>>(),
            "searchedLogStreams": [],
        });
        if page.more {
            if let Some(last) = page.events.last() {
                out["nextToken"] = json!(token(direction, last.key));
            }
        }
        Ok(out)
    }

    fn create_log_group(&self, input: &Input) -> Result<Value, AwsError> {
        let name = self.plain_group(input)?;
        match input.str("logGroupClass")? {
            None | Some("STANDARD" | "INFREQUENT_ACCESS" | "DELIVERY" | "ESSENTIALS") => {}
            Some(other) => {
                return Err(invalid(format!(
                    "1 validation error detected: Value '{other}' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY, ESSENTIALS]"
                )))
            }
        }
        self.store.create_group(&name)?;
        Ok(json!({}))
    }

    fn put_retention_policy(&self, input: &Input) -> Result<Value, AwsError> {
        let name = self.plain_group(input)?;
        let days = input.int("retentionInDays")?.ok_or_else(|| {
            invalid("1 validation error detected: Value null at 'retentionInDays' failed to satisfy constraint: Member must not be null")
        })?;
        let valid = u32::try_from(days)
            .ok()
            .filter(|d| RETENTION_DAYS.contains(d));
        let Some(days) = valid else {
            let set: Vec<String> = RETENTION_DAYS.iter().map(u32::to_string).collect();
            return Err(invalid(format!(
                "1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                set.join(", ")
            )));
        };
        self.store.set_retention(&name, Some(days))?;
        Ok(json!({}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::store::{now_ms, test_dir, LogStoreConfig};

    fn api(tag: &str) -> (LogsApi, std::path::PathBuf) {
        let dir = test_dir(tag);
        let store = LogStore::open(LogStoreConfig::new(&dir)).unwrap();
        (LogsApi::new(store, "us-east-1", "123456789012"), dir)
    }

    fn call(api: &LogsApi, op: &str, input: Value) -> Result<Value, AwsError> {
        api.handle_blocking(op, input)
    }

    #[test]
    fn get_log_events_tokens_walk_the_stream() {
        let (api, dir) = api("api-get");
        let t = now_ms();
        api.store()
            .append_text("/aws/lambda/f", "2026/01/01/[$LATEST]ab", t, b"1\n2\n3\n")
            .unwrap();
        let base = json!({"logGroupName": "/aws/lambda/f", "logStreamName": "2026/01/01/[$LATEST]ab", "limit": 2});
        let mut req = base.clone();
        req["startFromHead"] = json!(true);
        let p1 = call(&api, "GetLogEvents", req.clone()).unwrap();
        assert_eq!(p1["events"].as_array().unwrap().len(), 2);
        assert_eq!(p1["events"][0]["message"], "1\n");
        req["nextToken"] = p1["nextForwardToken"].clone();
        let p2 = call(&api, "GetLogEvents", req.clone()).unwrap();
        assert_eq!(p2["events"][0]["message"], "3\n");
        req["nextToken"] = p2["nextForwardToken"].clone();
        let p3 = call(&api, "GetLogEvents", req.clone()).unwrap();
        assert!(p3["events"].as_array().unwrap().is_empty());
        assert_eq!(p3["nextForwardToken"], p2["nextForwardToken"]);
        // Default: the newest events, oldest first within the page.
        let tail = call(&api, "GetLogEvents", base.clone()).unwrap();
        assert_eq!(tail["events"][0]["message"], "2\n");
        assert_eq!(tail["events"][1]["message"], "3\n");
        let mut back = base;
        back["nextToken"] = tail["nextBackwardToken"].clone();
        let older = call(&api, "GetLogEvents", back).unwrap();
        assert_eq!(older["events"][0]["message"], "1\n");
        let e = call(
            &api,
            "GetLogEvents",
            json!({"logGroupName": "/aws/lambda/f", "logStreamName": "x"}),
        )
        .unwrap_err();
        assert_eq!(
            (e.kind.code(), e.message.as_str()),
            (
                "ResourceNotFoundException",
                "The specified log stream does not exist."
            )
        );
        let e = call(&api, "GetLogEvents", json!({"logGroupName": "/aws/lambda/f", "logStreamName": "2026/01/01/[$LATEST]ab", "nextToken": "zz"})).unwrap_err();
        assert_eq!(e.kind.code(), "InvalidParameterException");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn filter_describe_retention_and_errors() {
        let (api, dir) = api("api-filter");
        let t = now_ms();
        let s = api.store();
        s.append_text("/aws/lambda/f", "a", t, b"START x\nhello MARKER\n")
            .unwrap();
        s.append_text("/aws/lambda/f", "b", t + 1, b"hello MARKER again\n")
            .unwrap();
        s.append_text("/aws/lambda/g", "a", t, b"other\n").unwrap();
        let r = call(&api, "FilterLogEvents", json!({"logGroupName": "/aws/lambda/f", "filterPattern": "MARKER", "limit": 1, "interleaved": true, "startTime": t})).unwrap();
        assert_eq!(r["events"][0]["message"], "hello MARKER\n");
        assert_eq!(r["events"][0]["logStreamName"], "a");
        assert_eq!(r["events"][0]["eventId"].as_str().unwrap().len(), 56);
        let r2 = call(&api, "FilterLogEvents", json!({"logGroupName": "/aws/lambda/f", "filterPattern": "MARKER", "limit": 1, "nextToken": r["nextToken"]})).unwrap();
        assert_eq!(r2["events"][0]["logStreamName"], "b");
        assert!(r2.get("nextToken").is_none());
        let arn = call(&api, "FilterLogEvents", json!({"logGroupIdentifier": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f:*", "endTime": t})).unwrap();
        assert_eq!(arn["events"].as_array().unwrap().len(), 2);

        let groups = call(
            &api,
            "DescribeLogGroups",
            json!({"logGroupNamePrefix": "/aws/lambda/", "limit": 1}),
        )
        .unwrap();
        assert_eq!(groups["logGroups"][0]["logGroupName"], "/aws/lambda/f");
        assert_eq!(
            groups["logGroups"][0]["arn"],
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f:*"
        );
        let next = call(
            &api,
            "DescribeLogGroups",
            json!({"nextToken": groups["nextToken"]}),
        )
        .unwrap();
        assert_eq!(next["logGroups"][0]["logGroupName"], "/aws/lambda/g");
        let streams = call(&api, "DescribeLogStreams", json!({"logGroupName": "/aws/lambda/f", "orderBy": "LastEventTime", "descending": true})).unwrap();
        assert_eq!(streams["logStreams"][0]["logStreamName"], "b");
        let e = call(&api, "DescribeLogStreams", json!({"logGroupName": "/aws/lambda/f", "orderBy": "LastEventTime", "logStreamNamePrefix": "a"})).unwrap_err();
        assert_eq!(e.kind.code(), "InvalidParameterException");

        call(
            &api,
            "PutRetentionPolicy",
            json!({"logGroupName": "/aws/lambda/f", "retentionInDays": 14}),
        )
        .unwrap();
        let g = call(
            &api,
            "DescribeLogGroups",
            json!({"logGroupNamePattern": "lambda/f"}),
        )
        .unwrap();
        assert_eq!(g["logGroups"][0]["retentionInDays"], 14);
        let e = call(
            &api,
            "PutRetentionPolicy",
            json!({"logGroupName": "/aws/lambda/f", "retentionInDays": 2}),
        )
        .unwrap_err();
        assert_eq!(e.kind.code(), "InvalidParameterException");
        assert!(e
            .message
            .contains("Member must satisfy enum value set: [1, 3, 5, 7, 14"));
        let e = call(
            &api,
            "PutRetentionPolicy",
            json!({"logGroupName": "/nope", "retentionInDays": 1}),
        )
        .unwrap_err();
        assert_eq!(
            (e.kind.code(), e.message.as_str()),
            (
                "ResourceNotFoundException",
                "The specified log group does not exist."
            )
        );
        assert_eq!(e.kind.status(), 400);
        call(
            &api,
            "DeleteRetentionPolicy",
            json!({"logGroupName": "/aws/lambda/f"}),
        )
        .unwrap();
        let e = call(
            &api,
            "CreateLogGroup",
            json!({"logGroupName": "/aws/lambda/f"}),
        )
        .unwrap_err();
        assert_eq!(e.kind.code(), "ResourceAlreadyExistsException");
        let e = call(&api, "CreateLogGroup", json!({"logGroupName": "bad:name"})).unwrap_err();
        assert_eq!(e.kind.code(), "InvalidParameterException");
        let g = json!({"logGroupName": "/aws/lambda/g", "logStreamName": "empty"});
        call(&api, "CreateLogStream", g.clone()).unwrap();
        let e = call(&api, "CreateLogStream", g).unwrap_err();
        assert_eq!(e.kind.code(), "ResourceAlreadyExistsException");
        let g = json!({"logGroupName": "/aws/lambda/g"});
        let streams = call(&api, "DescribeLogStreams", g.clone()).unwrap();
        assert_eq!(streams["logStreams"].as_array().unwrap().len(), 2);
        assert!(streams["logStreams"][1].get("lastEventTimestamp").is_none());
        let a = json!({"logGroupName": "/aws/lambda/g", "logStreamName": "a"});
        call(&api, "DeleteLogStream", a.clone()).unwrap();
        let e = call(&api, "GetLogEvents", a).unwrap_err();
        assert_eq!(e.kind.code(), "ResourceNotFoundException");
        let groups = call(
            &api,
            "DescribeLogGroups",
            json!({"logGroupNamePrefix": "/aws/lambda/g"}),
        )
        .unwrap();
        assert_eq!(groups["logGroups"][0]["storedBytes"], 0);
        call(&api, "DeleteLogGroup", g).unwrap();
        let e = call(
            &api,
            "FilterLogEvents",
            json!({"logGroupName": "/aws/lambda/g"}),
        )
        .unwrap_err();
        assert_eq!(e.kind.code(), "ResourceNotFoundException");
        let e = call(
            &api,
            "FilterLogEvents",
            json!({"logGroupName": "/aws/lambda/f", "logGroupIdentifier": "/aws/lambda/f"}),
        )
        .unwrap_err();
        assert_eq!(e.kind.code(), "InvalidParameterException");
        let e = call(
            &api,
            "FilterLogEvents",
            json!({"logGroupName": "/aws/lambda/f", "limit": 0}),
        )
        .unwrap_err();
        assert_eq!(e.kind.code(), "InvalidParameterException");
        let e = call(&api, "PutLogEvents", json!({})).unwrap_err();
        assert_eq!(e.kind.code(), "UnknownOperationException");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
