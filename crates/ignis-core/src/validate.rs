//! Input validation of the Lambda control plane: one function per rule, each failing with the error
//! kind and message AWS gives.
//!
//! Model constraints (length, range, pattern, enum) fail with ValidationException in AWS's
//! `N validation error(s) detected: Value '...' at '<member>' failed to satisfy constraint: ...` form;
//! service rules (reserved keys, limits, conflicts) fail with InvalidParameterValueException. Lengths
//! count UTF-16 code units, as the Java service does; `\s` and `\d` have Java's ASCII meaning.

use crate::arn::{self, is_name_byte, is_name_token, FUNCTION_NAME_PATTERN};
use crate::error::{AwsError, AwsResult, ErrorKind};

pub use crate::runtimes::validate_runtime;

/// Model pattern of `Handler`.
pub const HANDLER_PATTERN: &str = r"[^\s]+";
/// Model pattern of `RoleArn`.
pub const ROLE_PATTERN: &str = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+";
/// Model pattern of `EnvironmentVariableName`.
pub const ENV_KEY_PATTERN: &str = "[a-zA-Z]([a-zA-Z0-9_])+";
/// Model pattern of `TagKey` and `TagValue`.
pub const TAG_PATTERN: &str = r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)";
/// Model pattern of `Alias`.
pub const ALIAS_PATTERN: &str = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)";
/// Model pattern of `Version` (an alias's `FunctionVersion`).
pub const VERSION_PATTERN: &str = r"(\$LATEST|[0-9]+)";
/// Model pattern of `StatementId` (AddPermission).
pub const STATEMENT_ID_PATTERN: &str = "([a-zA-Z0-9-_]+)";
/// Model pattern of `NamespacedStatementId` (RemovePermission).
pub const NAMESPACED_STATEMENT_ID_PATTERN: &str = "([a-zA-Z0-9-_.]+)";
/// Model pattern of `Qualifier`.
pub const QUALIFIER_PATTERN: &str = "(|[a-zA-Z0-9$_-]+)";
/// Model pattern of `Action` (AddPermission).
pub const ACTION_PATTERN: &str = "(lambda:[*]|lambda:[a-zA-Z]+|[*])";
/// Model pattern of `Principal` (AddPermission).
pub const PRINCIPAL_PATTERN: &str = r"[^\s]+";
/// Model pattern of `LayerPermissionAllowedAction`.
pub const LAYER_ACTION_PATTERN: &str = "lambda:GetLayerVersion";
/// Model pattern of `LayerPermissionAllowedPrincipal`.
pub const LAYER_PRINCIPAL_PATTERN: &str = r"\d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root";
/// The `layers` constraint text AWS returns for a malformed layer version ARN in a function's Layers.
pub const LAYERS_CONSTRAINT: &str = r"Member must satisfy constraint: [Member must have length less than or equal to 140, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1}:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+), Member must not be null]";

/// Memory size range in MB.
pub const MEMORY_RANGE: (i64, i64) = (128, 10240);
/// Timeout range in seconds.
pub const TIMEOUT_RANGE: (i64, i64) = (1, 900);
/// Ephemeral storage (/tmp) range in MB.
pub const EPHEMERAL_STORAGE_RANGE: (i64, i64) = (512, 10240);
/// Longest description.
pub const MAX_DESCRIPTION_LEN: usize = 256;
/// Longest handler.
pub const MAX_HANDLER_LEN: usize = 128;
/// Total size limit of the environment variables, measured as AWS does (compact JSON, UTF-8 bytes).
pub const MAX_ENV_BYTES: usize = 4096;
/// Most layers a function may reference.
pub const MAX_LAYERS: usize = 5;
/// Most tags on a resource.
pub const MAX_TAGS: usize = 50;
/// Most compatible runtimes of a layer version.
pub const MAX_COMPATIBLE_RUNTIMES: usize = 15;
/// Most compatible architectures of a layer version.
pub const MAX_COMPATIBLE_ARCHITECTURES: usize = 2;
/// The architectures, in the order of AWS's enum message.
pub const ARCHITECTURES: [&str; 2] = ["x86_64", "arm64"];

/// Environment variable keys AWS refuses because the runtime sets them (Lambda developer guide,
/// "Defined runtime environment variables").
pub const RESERVED_ENV_KEYS: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

// ---------------------------------------------------------------------------------------------
// Message building blocks.

/// Length of `s` as the Java service counts it (UTF-16 code units).
pub fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `Value '<value>' at '<field>' failed to satisfy constraint: <constraint>`
pub fn constraint_violation(value: &str, field: &str, constraint: &str) -> String {
    format!("Value '{value}' at '{field}' failed to satisfy constraint: {constraint}")
}

/// `1 validation error detected: <violation>`
pub fn single_error_message(violation: &str) -> String {
    format!("1 validation error detected: {violation}")
}

/// ValidationException listing `violations` as AWS does:
/// `N validation error(s) detected: <v1>; <v2>`.
pub fn validation_error(violations: Vec<String>) -> AwsError {
    let msg = match violations.len() {
        0 => "1 validation error detected".to_owned(),
        1 => single_error_message(&violations[0]),
        n => format!("{n} validation errors detected: {}", violations.join("; ")),
    };
    AwsError::new(ErrorKind::Validation, msg)
}

/// `Member must have length less than or equal to <n>`
pub fn max_len(n: usize) -> String {
    format!("Member must have length less than or equal to {n}")
}

/// `Member must have length greater than or equal to <n>`
pub fn min_len(n: usize) -> String {
    format!("Member must have length greater than or equal to {n}")
}

/// `Member must satisfy regular expression pattern: <p>`
pub fn pattern(p: &str) -> String {
    format!("Member must satisfy regular expression pattern: {p}")
}

/// `Member must have value less than or equal to <n>`
pub fn max_value(n: i64) -> String {
    format!("Member must have value less than or equal to {n}")
}

/// `Member must have value greater than or equal to <n>`
pub fn min_value(n: i64) -> String {
    format!("Member must have value greater than or equal to {n}")
}

/// `Member must satisfy enum value set: [a, b]`
pub fn enum_set(values: &[&str]) -> String {
    format!(
        "Member must satisfy enum value set: [{}]",
        values.join(", ")
    )
}

/// A list rendered as Java renders it in AWS messages: `[a, b]`.
pub fn java_list<S: AsRef<str>>(items: &[S]) -> String {
    let parts: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    format!("[{}]", parts.join(", "))
}

/// A double rendered as Java's `Double.toString` does (`1.0`, `0.25`, `1.0E-5`, `NaN`).
pub fn java_double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let a = v.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{v}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let s = format!("{v:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = if mant.contains('.') {
            mant.to_owned()
        } else {
            format!("{mant}.0")
        };
        format!("{mant}E{exp}")
    }
}

/// A full-match test of a model pattern, written by hand.
pub type Matcher = fn(&str) -> bool;

/// Checks a string member: UTF-16 length within `min..=max`, and `matches` (a full-match of the
/// model pattern `pat`); fails with every violated constraint, lengths first.
pub fn check_string(
    value: &str,
    field: &str,
    min: usize,
    max: usize,
    pat: Option<(&str, Matcher)>,
) -> AwsResult<()> {
    let mut errors = Vec::new();
    let len = utf16_len(value);
    if len < min {
        errors.push(constraint_violation(value, field, &min_len(min)));
    }
    if len > max {
        errors.push(constraint_violation(value, field, &max_len(max)));
    }
    if let Some((p, matches)) = pat {
        if !matches(value) {
            errors.push(constraint_violation(value, field, &pattern(p)));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(validation_error(errors))
    }
}

/// Checks an integer member against an inclusive range.
pub fn check_range(value: i64, field: &str, min: Option<i64>, max: Option<i64>) -> AwsResult<()> {
    let v = value.to_string();
    if let Some(m) = min.filter(|m| value < *m) {
        return Err(validation_error(vec![constraint_violation(
            &v,
            field,
            &min_value(m),
        )]));
    }
    if let Some(m) = max.filter(|m| value > *m) {
        return Err(validation_error(vec![constraint_violation(
            &v,
            field,
            &max_value(m),
        )]));
    }
    Ok(())
}

/// Checks an enum member.
pub fn check_enum(value: &str, field: &str, allowed: &[&str]) -> AwsResult<()> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(validation_error(vec![constraint_violation(
            value,
            field,
            &enum_set(allowed),
        )]))
    }
}

/// Java's `\s`: space, tab, newline, vertical tab, form feed, carriage return.
fn is_java_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r')
}

/// `[^\s]+`
fn no_space(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(is_java_space)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

// ---------------------------------------------------------------------------------------------
// Function configuration.

/// The bare function name of CreateFunction: 1–64 of `[a-zA-Z0-9-_]`. Bad characters or an empty
/// name fail the model pattern (ValidationException); a valid name over 64 characters is AWS's
/// InvalidParameterValueException "1 validation error detected: ... less than or equal to 64".
pub fn validate_function_name(name: &str) -> AwsResult<()> {
    let len = utf16_len(name);
    if !is_name_token(name) {
        let mut errors = Vec::new();
        if len < 1 {
            errors.push(constraint_violation(name, "functionName", &min_len(1)));
        }
        if len > 140 {
            errors.push(constraint_violation(name, "functionName", &max_len(140)));
        }
        errors.push(constraint_violation(
            name,
            "functionName",
            &pattern(FUNCTION_NAME_PATTERN),
        ));
        return Err(validation_error(errors));
    }
    if len > arn::MAX_FUNCTION_NAME_LEN {
        return Err(AwsError::invalid(single_error_message(
            &constraint_violation(name, "functionName", &max_len(arn::MAX_FUNCTION_NAME_LEN)),
        )));
    }
    Ok(())
}

/// `Handler`: at most 128 characters matching `[^\s]+`, at 'handler'.
pub fn validate_handler(handler: &str) -> AwsResult<()> {
    check_string(
        handler,
        "handler",
        0,
        MAX_HANDLER_LEN,
        Some((HANDLER_PATTERN, no_space)),
    )
}

fn role_matches(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("arn:") else {
        return false;
    };
    let Some((part, rest)) = rest.split_once(':') else {
        return false;
    };
    let part_ok = part.is_empty()
        || part
            .strip_prefix("aws")
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-'));
    let Some(rest) = rest.strip_prefix("iam::") else {
        return false;
    };
    if !part_ok || rest.len() < 12 || !rest.is_char_boundary(12) {
        return false;
    }
    let (acct, rest) = rest.split_at(12);
    let Some(path) = rest.strip_prefix(":role") else {
        return false;
    };
    all_digits(acct)
        && !path.is_empty()
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-/".contains(&b))
}

/// `Role`: an IAM role ARN matching `arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`.
pub fn validate_role(role: &str) -> AwsResult<()> {
    check_string(role, "role", 0, 10000, Some((ROLE_PATTERN, role_matches)))
}

/// `MemorySize`: 128–10240 MB, at 'memorySize'.
pub fn validate_memory_size(mb: i64) -> AwsResult<()> {
    check_range(mb, "memorySize", Some(MEMORY_RANGE.0), Some(MEMORY_RANGE.1))
}

/// `Timeout`: 1–900 seconds, at 'timeout'.
pub fn validate_timeout(seconds: i64) -> AwsResult<()> {
    check_range(
        seconds,
        "timeout",
        Some(TIMEOUT_RANGE.0),
        Some(TIMEOUT_RANGE.1),
    )
}

/// `EphemeralStorage.Size`: 512–10240 MB, at 'ephemeralStorage.size'.
pub fn validate_ephemeral_storage(mb: i64) -> AwsResult<()> {
    check_range(
        mb,
        "ephemeralStorage.size",
        Some(EPHEMERAL_STORAGE_RANGE.0),
        Some(EPHEMERAL_STORAGE_RANGE.1),
    )
}

/// `Description`: at most 256 characters, at 'description'.
pub fn validate_description(description: &str) -> AwsResult<()> {
    check_string(description, "description", 0, MAX_DESCRIPTION_LEN, None)
}

/// `[a-zA-Z]([a-zA-Z0-9_])+`: a letter, then at least one letter, digit or underscore.
pub fn is_env_key(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_alphabetic()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// The environment variables as compact JSON in the given order: the "String measured" of AWS's
/// 4 KB error, whose UTF-8 length is checked against [`MAX_ENV_BYTES`].
pub fn environment_json(vars: &[(String, String)]) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in vars.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&serde_json::Value::from(k.as_str()).to_string());
        s.push(':');
        s.push_str(&serde_json::Value::from(v.as_str()).to_string());
    }
    s.push('}');
    s
}

/// `Environment.Variables` (in request order): keys must match `[a-zA-Z]([a-zA-Z0-9_])+`
/// (ValidationException; the values are sensitive, so AWS quotes none), must not be reserved keys,
/// and the whole must fit in 4 KB (InvalidParameterValueException with AWS's texts).
pub fn validate_environment(vars: &[(String, String)]) -> AwsResult<()> {
    if vars.iter().any(|(k, _)| !is_env_key(k)) {
        return Err(AwsError::new(
            ErrorKind::Validation,
            format!(
                "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [{}]",
                pattern(ENV_KEY_PATTERN)
            ),
        ));
    }
    let reserved: Vec<&str> = vars
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| RESERVED_ENV_KEYS.contains(k))
        .collect();
    if !reserved.is_empty() {
        return Err(AwsError::invalid(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
            reserved.join(", ")
        )));
    }
    let measured = environment_json(vars);
    if measured.len() > MAX_ENV_BYTES {
        return Err(AwsError::invalid(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {measured}"
        )));
    }
    Ok(())
}

/// A function's `Layers`: each a layer version ARN (ValidationException at 'layers' with AWS's
/// constraint text), at most 5 ("Cannot reference more than 5 layers."), and no two versions of one
/// layer (AWS's "Two different versions of the same layer ..." message).
pub fn validate_layers(layers: &[String]) -> AwsResult<()> {
    if layers
        .iter()
        .any(|l| utf16_len(l) > 140 || arn::match_layer_version_arn(l).is_none())
    {
        return Err(validation_error(vec![constraint_violation(
            &java_list(layers),
            "layers",
            LAYERS_CONSTRAINT,
        )]));
    }
    if layers.len() > MAX_LAYERS {
        return Err(AwsError::invalid(format!(
            "Cannot reference more than {MAX_LAYERS} layers."
        )));
    }
    let mut seen: Vec<(String, &str)> = Vec::with_capacity(layers.len());
    for l in layers {
        let layer = arn::layer_of_version_arn(l).unwrap_or_else(|| l.clone());
        if let Some((_, first)) = seen.iter().find(|(x, _)| *x == layer) {
            return Err(AwsError::invalid(format!(
                "Two different versions of the same layer are not allowed to be referenced in the same function. {first} and {l} are versions of the same layer."
            )));
        }
        seen.push((layer, l));
    }
    Ok(())
}

/// InvalidParameterValueException for a layer outside the function's region.
pub fn layer_region_mismatch(region: &str) -> AwsError {
    AwsError::invalid(format!(
        "Layers are not in the same region as the function. Layers are expected to be in region {region}."
    ))
}

/// `Architectures`: exactly one of `x86_64`, `arm64`, at 'architectures'.
pub fn validate_architectures(archs: &[String]) -> AwsResult<()> {
    let value = java_list(archs);
    let mut errors = Vec::new();
    if archs.is_empty() {
        errors.push(constraint_violation(&value, "architectures", &min_len(1)));
    }
    if archs.len() > 1 {
        errors.push(constraint_violation(&value, "architectures", &max_len(1)));
    }
    if archs.iter().any(|a| !ARCHITECTURES.contains(&a.as_str())) {
        errors.push(constraint_violation(
            &value,
            "architectures",
            &format!(
                "Member must satisfy constraint: [{}, Member must not be null]",
                enum_set(&ARCHITECTURES)
            ),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(validation_error(errors))
    }
}

/// `PackageType`: `Zip` or `Image`, at 'packageType'.
pub fn validate_package_type(package_type: &str) -> AwsResult<()> {
    check_enum(package_type, "packageType", &["Zip", "Image"])
}

/// `TracingConfig.Mode`: `Active` or `PassThrough`, at 'tracingConfig.mode'.
pub fn validate_tracing_mode(mode: &str) -> AwsResult<()> {
    check_enum(mode, "tracingConfig.mode", &["Active", "PassThrough"])
}

// ---------------------------------------------------------------------------------------------
// Tags.

/// Unicode separators (`\p{Z}`: Zs, Zl, Zp).
fn is_separator(c: char) -> bool {
    matches!(
        c,
        '\u{20}' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// `([\p{L}\p{Z}\p{N}_.:/=+\-@]*)` (letters approximated by Unicode `Alphabetic`).
pub fn is_tag_text(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphabetic() || c.is_numeric() || is_separator(c) || "_.:/=+-@".contains(c))
}

fn java_map(pairs: &[(String, String)]) -> String {
    let parts: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", parts.join(", "))
}

/// InvalidParameterValueException when a resource would carry more than 50 tags.
pub fn too_many_tags() -> AwsError {
    AwsError::invalid("Number of tags exceeds resource tag limit.")
}

/// `Tags` of CreateFunction/TagResource (in request order): keys 1–128 characters, values at most
/// 256, both matching the tag pattern (ValidationException at 'tags'); no key starting with `aws:`
/// in any case; at most 50 tags (InvalidParameterValueException).
pub fn validate_tags(tags: &[(String, String)]) -> AwsResult<()> {
    let mut errors = Vec::new();
    if tags
        .iter()
        .any(|(k, _)| !(1..=128).contains(&utf16_len(k)) || !is_tag_text(k))
    {
        errors.push(constraint_violation(
            &java_map(tags),
            "tags",
            &format!(
                "Map keys must satisfy constraint: [{}, {}, {}, Member must not be null]",
                max_len(128),
                min_len(1),
                pattern(TAG_PATTERN)
            ),
        ));
    }
    if tags
        .iter()
        .any(|(_, v)| utf16_len(v) > 256 || !is_tag_text(v))
    {
        errors.push(constraint_violation(
            &java_map(tags),
            "tags",
            &format!(
                "Map value must satisfy constraint: [{}, {}, {}, Member must not be null]",
                max_len(256),
                min_len(0),
                pattern(TAG_PATTERN)
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(validation_error(errors));
    }
    if tags
        .iter()
        .any(|(k, _)| k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")))
    {
        return Err(AwsError::invalid(
            "Tag keys starting with 'aws:' are reserved for internal use.",
        ));
    }
    if tags.len() > MAX_TAGS {
        return Err(too_many_tags());
    }
    Ok(())
}

/// `TagKeys` of UntagResource: present and non-empty, each key 1–128 characters of the tag pattern.
pub fn validate_tag_keys(keys: &[String]) -> AwsResult<()> {
    if keys.is_empty() {
        return Err(AwsError::new(
            ErrorKind::Validation,
            "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
        ));
    }
    if keys
        .iter()
        .any(|k| !(1..=128).contains(&utf16_len(k)) || !is_tag_text(k))
    {
        return Err(validation_error(vec![constraint_violation(
            &java_list(keys),
            "tagKeys",
            &format!(
                "Member must satisfy constraint: [{}, {}, {}, Member must not be null]",
                max_len(128),
                min_len(1),
                pattern(TAG_PATTERN)
            ),
        )]));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Versions, aliases, qualifiers.

/// Whether `s` names a published version (`[0-9]+`).
pub fn is_version_number(s: &str) -> bool {
    all_digits(s)
}

/// Whether `s` is a syntactically valid alias name (`(?!^[0-9]+$)([a-zA-Z0-9-_]+)`).
pub fn is_alias_name(s: &str) -> bool {
    is_name_token(s) && !all_digits(s)
}

/// Alias `Name`: 1–128 characters matching `(?!^[0-9]+$)([a-zA-Z0-9-_]+)`, at 'name'.
pub fn validate_alias_name(name: &str) -> AwsResult<()> {
    check_string(name, "name", 1, 128, Some((ALIAS_PATTERN, is_alias_name)))
}

fn is_version_or_latest(s: &str) -> bool {
    s == "$LATEST" || all_digits(s)
}

/// An alias's `FunctionVersion`: `$LATEST` or digits, at 'functionVersion'.
pub fn validate_alias_function_version(version: &str) -> AwsResult<()> {
    check_string(
        version,
        "functionVersion",
        1,
        1024,
        Some((VERSION_PATTERN, is_version_or_latest)),
    )
}

/// `RoutingConfig.AdditionalVersionWeights` of an alias pointing at `alias_version`: each key a
/// version number, each weight within 0.0–1.0 (ValidationException at
/// 'routingConfig.additionalVersionWeights'); at most one entry, not the alias's own version, and no
/// routing for an alias on `$LATEST` (InvalidParameterValueException).
pub fn validate_routing_config(weights: &[(String, f64)], alias_version: &str) -> AwsResult<()> {
    let field = "routingConfig.additionalVersionWeights";
    for (key, w) in weights {
        let value = format!("{{{key}={}}}", java_double(*w));
        if utf16_len(key) > 1024 || !all_digits(key) {
            return Err(validation_error(vec![constraint_violation(
                &value,
                field,
                "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+, Member must not be null]",
            )]));
        }
        if !(0.0..=1.0).contains(w) {
            return Err(validation_error(vec![constraint_violation(
                &value,
                field,
                "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]",
            )]));
        }
    }
    if weights.len() > 1 {
        return Err(AwsError::invalid(
            "Number of items in AdditionalVersionWeights cannot be greater than 1",
        ));
    }
    if let Some((key, _)) = weights.first() {
        if key == alias_version {
            return Err(AwsError::invalid(format!(
                "Invalid function version {alias_version}. Function version {alias_version} is already included in routing configuration."
            )));
        }
        if alias_version == "$LATEST" {
            return Err(AwsError::invalid(
                "$LATEST is not supported for an alias pointing to more than 1 version",
            ));
        }
    }
    Ok(())
}

fn is_qualifier_text(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'$' || b == b'_' || b == b'-')
}

/// A `Qualifier` query parameter: 1–128 characters matching `(|[a-zA-Z0-9$_-]+)`, at 'qualifier'.
pub fn validate_qualifier(qualifier: &str) -> AwsResult<()> {
    check_string(
        qualifier,
        "qualifier",
        1,
        128,
        Some((QUALIFIER_PATTERN, is_qualifier_text)),
    )
}

// ---------------------------------------------------------------------------------------------
// Permissions.

/// AddPermission `StatementId`: 1–100 characters of `([a-zA-Z0-9-_]+)`, at 'statementId'.
pub fn validate_statement_id(sid: &str) -> AwsResult<()> {
    check_string(
        sid,
        "statementId",
        1,
        100,
        Some((STATEMENT_ID_PATTERN, is_name_token)),
    )
}

fn is_namespaced_sid(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| is_name_byte(b) || b == b'.')
}

/// RemovePermission `StatementId`: 1–100 characters of `([a-zA-Z0-9-_.]+)`, at 'statementId'.
pub fn validate_namespaced_statement_id(sid: &str) -> AwsResult<()> {
    check_string(
        sid,
        "statementId",
        1,
        100,
        Some((NAMESPACED_STATEMENT_ID_PATTERN, is_namespaced_sid)),
    )
}

fn is_action(s: &str) -> bool {
    s == "*"
        || s.strip_prefix("lambda:").is_some_and(|a| {
            a == "*" || (!a.is_empty() && a.bytes().all(|b| b.is_ascii_alphabetic()))
        })
}

/// AddPermission `Action`: `lambda:*`, `lambda:<Name>` or `*`, at 'action'.
pub fn validate_action(action: &str) -> AwsResult<()> {
    check_string(
        action,
        "action",
        0,
        10000,
        Some((ACTION_PATTERN, is_action)),
    )
}

/// AddPermission `Principal`: non-empty without whitespace, at most 2048, at 'principal'.
pub fn validate_principal(principal: &str) -> AwsResult<()> {
    check_string(
        principal,
        "principal",
        0,
        2048,
        Some((PRINCIPAL_PATTERN, no_space)),
    )
}

/// The forms a function permission's principal takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// `*`
    Anyone,
    /// A 12-digit account id.
    Account,
    /// A service principal, `<name>.amazonaws.com`.
    Service,
    /// An IAM ARN (`arn:<partition>:iam::...`).
    IamArn,
}

/// Validates an AddPermission principal (pattern, then its form): anything but `*`, an account id,
/// a service principal or an IAM ARN is AWS's InvalidParameterValueException
/// "The provided principal was invalid. Please check the principal and try again."
pub fn validate_permission_principal(principal: &str) -> AwsResult<PrincipalKind> {
    validate_principal(principal)?;
    let kind = if principal == "*" {
        Some(PrincipalKind::Anyone)
    } else if principal.len() == 12 && all_digits(principal) {
        Some(PrincipalKind::Account)
    } else if principal.ends_with(".amazonaws.com") {
        Some(PrincipalKind::Service)
    } else if principal
        .strip_prefix("arn:")
        .and_then(|r| r.split_once(':'))
        .is_some_and(|(p, r)| p.starts_with("aws") && r.starts_with("iam:"))
    {
        Some(PrincipalKind::IamArn)
    } else {
        None
    };
    kind.ok_or_else(|| {
        AwsError::invalid(
            "The provided principal was invalid. Please check the principal and try again.",
        )
    })
}

/// AddLayerVersionPermission `Action`: exactly `lambda:GetLayerVersion`, at 'action'.
pub fn validate_layer_permission_action(action: &str) -> AwsResult<()> {
    check_string(
        action,
        "action",
        0,
        22,
        Some((LAYER_ACTION_PATTERN, |s| s == "lambda:GetLayerVersion")),
    )
}

fn is_layer_principal(s: &str) -> bool {
    if s == "*" || (s.len() == 12 && all_digits(s)) {
        return true;
    }
    match s.split(':').collect::<Vec<_>>()[..] {
        ["arn", p, "iam", "", acct, "root"] => {
            p.strip_prefix("aws")
                .is_some_and(|r| r.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-'))
                && acct.len() == 12
                && all_digits(acct)
        }
        _ => false,
    }
}

/// AddLayerVersionPermission `Principal`: an account id, `*`, or `arn:aws:iam::<account>:root`.
pub fn validate_layer_permission_principal(principal: &str) -> AwsResult<()> {
    check_string(
        principal,
        "principal",
        0,
        10000,
        Some((LAYER_PRINCIPAL_PATTERN, is_layer_principal)),
    )
}

// ---------------------------------------------------------------------------------------------
// Concurrency and listing.

/// PutFunctionConcurrency `ReservedConcurrentExecutions`: at least 0.
pub fn validate_reserved_concurrency(n: i64) -> AwsResult<()> {
    check_range(n, "reservedConcurrentExecutions", Some(0), None)
}

/// PutProvisionedConcurrencyConfig `ProvisionedConcurrentExecutions`: at least 1.
pub fn validate_provisioned_concurrency(n: i64) -> AwsResult<()> {
    check_range(n, "provisionedConcurrentExecutions", Some(1), None)
}

/// `MaxItems` of ListFunctions, ListVersionsByFunction, ListAliases, ...: 1–10000, at 'maxItems'.
pub fn validate_max_items(n: i64) -> AwsResult<()> {
    validate_max_items_up_to(n, 10000)
}

/// `MaxItems` with another model maximum (50 for ListLayers, ListLayerVersions, function URL and
/// provisioned concurrency listings).
pub fn validate_max_items_up_to(n: i64, max: i64) -> AwsResult<()> {
    check_range(n, "maxItems", Some(1), Some(max))
}

/// ListFunctions `FunctionVersion`: only `ALL`.
pub fn validate_function_version_filter(v: &str) -> AwsResult<()> {
    check_enum(v, "functionVersion", &["ALL"])
}

// ---------------------------------------------------------------------------------------------
// Layers.

/// PublishLayerVersion `LayerName`: a name or layer ARN, at 'layerName'.
pub fn validate_layer_name(name: &str) -> AwsResult<()> {
    arn::parse_layer_name(name).map(|_| ())
}

fn runtimes_violation(runtimes: &[String]) -> Option<String> {
    let value = java_list(runtimes);
    if runtimes.len() > MAX_COMPATIBLE_RUNTIMES {
        return Some(constraint_violation(
            &value,
            "compatibleRuntimes",
            &max_len(MAX_COMPATIBLE_RUNTIMES),
        ));
    }
    if runtimes
        .iter()
        .any(|r| !crate::runtimes::is_layer_runtime(r))
    {
        return Some(constraint_violation(
            &value,
            "compatibleRuntimes",
            &format!(
                "Member must satisfy enum value set: {}",
                crate::runtimes::runtime_enum_list()
            ),
        ));
    }
    None
}

fn architectures_violation(archs: &[String]) -> Option<String> {
    let value = java_list(archs);
    if archs.len() > MAX_COMPATIBLE_ARCHITECTURES {
        return Some(constraint_violation(
            &value,
            "compatibleArchitectures",
            &max_len(MAX_COMPATIBLE_ARCHITECTURES),
        ));
    }
    if archs.iter().any(|a| !ARCHITECTURES.contains(&a.as_str())) {
        return Some(constraint_violation(
            &value,
            "compatibleArchitectures",
            &format!(
                "Member must satisfy constraint: [{}]",
                enum_set(&ARCHITECTURES)
            ),
        ));
    }
    None
}

/// PublishLayerVersion `CompatibleRuntimes`: at most 15, each a runtime identifier.
pub fn validate_compatible_runtimes(runtimes: &[String]) -> AwsResult<()> {
    validate_layer_compatibility(runtimes, &[])
}

/// PublishLayerVersion `CompatibleArchitectures`: at most 2, each `x86_64` or `arm64`.
pub fn validate_compatible_architectures(archs: &[String]) -> AwsResult<()> {
    validate_layer_compatibility(&[], archs)
}

/// Both compatibility lists of PublishLayerVersion, reporting every violation together as AWS does.
pub fn validate_layer_compatibility(runtimes: &[String], archs: &[String]) -> AwsResult<()> {
    let errors: Vec<String> = [runtimes_violation(runtimes), architectures_violation(archs)]
        .into_iter()
        .flatten()
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(validation_error(errors))
    }
}

/// The `CompatibleRuntime` filter of ListLayers/ListLayerVersions.
pub fn validate_compatible_runtime(runtime: &str) -> AwsResult<()> {
    if crate::runtimes::is_layer_runtime(runtime) {
        return Ok(());
    }
    Err(validation_error(vec![constraint_violation(
        runtime,
        "compatibleRuntime",
        &format!(
            "Member must satisfy enum value set: {}",
            crate::runtimes::layer_runtime_enum_list()
        ),
    )]))
}

/// The `CompatibleArchitecture` filter of ListLayers/ListLayerVersions.
pub fn validate_compatible_architecture(arch: &str) -> AwsResult<()> {
    check_enum(arch, "compatibleArchitecture", &ARCHITECTURES)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> String {
        v.to_owned()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(a, b)| (s(a), s(b))).collect()
    }

    fn msg(r: AwsResult<impl std::fmt::Debug>) -> (ErrorKind, String) {
        let e = r.unwrap_err();
        (e.kind, e.message)
    }

    #[test]
    fn multi_error_format() {
        let e = validation_error(vec![s("a"), s("b"), s("c")]);
        assert_eq!(e.kind, ErrorKind::Validation);
        assert_eq!(e.message, "3 validation errors detected: a; b; c");
        assert_eq!(
            validation_error(vec![s("x")]).message,
            "1 validation error detected: x"
        );
        assert_eq!(
            AwsError::validation("v", "f", "c").message,
            single_error_message(&constraint_violation("v", "f", "c"))
        );
    }

    #[test]
    fn function_names() {
        for ok in ["f", "my-function", "My_Function_2", &"a".repeat(64)] {
            assert_eq!(validate_function_name(ok), Ok(()), "{ok}");
        }
        let long = "a".repeat(65);
        assert_eq!(
            msg(validate_function_name(&long)),
            (
                ErrorKind::InvalidParameterValue,
                format!("1 validation error detected: Value '{long}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64")
            )
        );
        let (k, m) = msg(validate_function_name("my.function"));
        assert_eq!(k, ErrorKind::Validation);
        assert_eq!(m, format!("1 validation error detected: Value 'my.function' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: {FUNCTION_NAME_PATTERN}"));
        let (k, m) = msg(validate_function_name(""));
        assert_eq!(k, ErrorKind::Validation);
        assert!(m.starts_with("2 validation errors detected: Value '' at 'functionName' failed to satisfy constraint: Member must have length greater than or equal to 1; "));
        for bad in ["a b", "ü", "a:b", "a/b", "\u{0}"] {
            assert_eq!(
                msg(validate_function_name(bad)).0,
                ErrorKind::Validation,
                "{bad}"
            );
        }
    }

    #[test]
    fn handlers() {
        for ok in [
            "index.handler",
            "a",
            "com.example::handleRequest",
            "x\u{A0}y",
            &"h".repeat(128),
        ] {
            assert_eq!(validate_handler(ok), Ok(()), "{ok:?}");
        }
        assert_eq!(
            msg(validate_handler("index handler")).1,
            r"1 validation error detected: Value 'index handler' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\s]+"
        );
        assert_eq!(
            msg(validate_handler(&"h".repeat(129))).1,
            format!("1 validation error detected: Value '{}' at 'handler' failed to satisfy constraint: Member must have length less than or equal to 128", "h".repeat(129))
        );
        assert!(validate_handler("").is_err());
        assert!(validate_handler("a\tb").is_err());
        assert!(validate_handler("a\u{0B}b").is_err());
        // 64 crabs are 128 UTF-16 units: allowed; 65 are not.
        assert!(validate_handler(&"🦀".repeat(64)).is_ok());
        assert!(validate_handler(&"🦀".repeat(65)).is_err());
    }

    #[test]
    fn roles() {
        for ok in [
            "arn:aws:iam::123456789012:role/lambda-role",
            "arn:aws:iam::123456789012:role/service-role/my.role@x=y,z+",
            "arn:aws-cn:iam::123456789012:role/r",
            "arn::iam::123456789012:role/r",
            "arn:aws:iam::123456789012:rolex",
            "arn:aws:iam::123456789012:role/",
        ] {
            assert_eq!(validate_role(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "my-role",
            "arn:aws:iam::123456789012:role",
            "arn:aws:iam::12345678901:role/r",
            "arn:aws:iam:us-east-1:123456789012:role/r",
            "arn:aws:iam::123456789012:user/r",
            "arn:gcp:iam::123456789012:role/r",
            "arn:aws:iam::123456789012:role/a b",
            "arn:aws:iam::12345678901ü:role/r",
        ] {
            assert_eq!(msg(validate_role(bad)).0, ErrorKind::Validation, "{bad}");
        }
        assert_eq!(
            msg(validate_role("my-role")).1,
            r"1 validation error detected: Value 'my-role' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
        );
    }

    #[test]
    fn numeric_ranges() {
        type Check = fn(i64) -> AwsResult<()>;
        let cases: &[(Check, i64, Option<&str>)] = &[
            (validate_memory_size, 128, None),
            (validate_memory_size, 10240, None),
            (validate_memory_size, 127, Some("1 validation error detected: Value '127' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128")),
            (validate_memory_size, 10241, Some("1 validation error detected: Value '10241' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240")),
            (validate_timeout, 1, None),
            (validate_timeout, 900, None),
            (validate_timeout, 0, Some("1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1")),
            (validate_timeout, 3000, Some("1 validation error detected: Value '3000' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900")),
            (validate_ephemeral_storage, 512, None),
            (validate_ephemeral_storage, 511, Some("1 validation error detected: Value '511' at 'ephemeralStorage.size' failed to satisfy constraint: Member must have value greater than or equal to 512")),
            (validate_ephemeral_storage, 10241, Some("1 validation error detected: Value '10241' at 'ephemeralStorage.size' failed to satisfy constraint: Member must have value less than or equal to 10240")),
            (validate_reserved_concurrency, 0, None),
            (validate_reserved_concurrency, -1, Some("1 validation error detected: Value '-1' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0")),
            (validate_provisioned_concurrency, 1, None),
            (validate_provisioned_concurrency, 0, Some("1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1")),
            (validate_max_items, 1, None),
            (validate_max_items, 10000, None),
            (validate_max_items, 0, Some("1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1")),
            (validate_max_items, 10001, Some("1 validation error detected: Value '10001' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 10000")),
            (validate_memory_size, i64::MIN, Some("1 validation error detected: Value '-9223372036854775808' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128")),
            (validate_timeout, i64::MAX, Some("1 validation error detected: Value '9223372036854775807' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900")),
        ];
        for (f, v, want) in cases {
            match want {
                None => assert_eq!(f(*v), Ok(()), "{v}"),
                Some(m) => assert_eq!(msg(f(*v)), (ErrorKind::Validation, (*m).to_owned())),
            }
        }
        assert!(validate_max_items_up_to(51, 50).is_err());
        assert!(validate_max_items_up_to(50, 50).is_ok());
    }

    #[test]
    fn descriptions() {
        assert!(validate_description("").is_ok());
        assert!(validate_description(&"d".repeat(256)).is_ok());
        assert_eq!(
            msg(validate_description(&"d".repeat(257))).1,
            format!("1 validation error detected: Value '{}' at 'description' failed to satisfy constraint: Member must have length less than or equal to 256", "d".repeat(257))
        );
    }

    #[test]
    fn environment() {
        assert!(validate_environment(&[]).is_ok());
        assert!(validate_environment(&pairs(&[
            ("ENV_A", "a"),
            ("b1", ""),
            ("TZ", "UTC"),
            ("PATH", "/x")
        ]))
        .is_ok());
        let (k, m) = msg(validate_environment(&pairs(&[("a", "x")])));
        assert_eq!(k, ErrorKind::Validation);
        assert_eq!(m, "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]");
        for bad in ["1A", "A-B", "_HANDLER", "", "ÄB", "A B"] {
            assert_eq!(
                msg(validate_environment(&pairs(&[(bad, "v")]))).0,
                ErrorKind::Validation,
                "{bad}"
            );
        }
        let (k, m) = msg(validate_environment(&pairs(&[
            ("AWS_REGION", "x"),
            ("OK", "1"),
            ("AWS_ACCESS_KEY_ID", "k"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ])));
        assert_eq!(k, ErrorKind::InvalidParameterValue);
        assert_eq!(m, "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY");
        for key in [
            "AWS_DEFAULT_REGION",
            "AWS_SESSION_TOKEN",
            "LAMBDA_TASK_ROOT",
            "AWS_LAMBDA_RUNTIME_API",
            "AWS_LAMBDA_FUNCTION_NAME",
        ] {
            assert_eq!(
                msg(validate_environment(&pairs(&[(key, "v")]))).0,
                ErrorKind::InvalidParameterValue,
                "{key}"
            );
        }
        // The measured string is compact JSON; exactly 4096 bytes passes.
        assert_eq!(
            environment_json(&pairs(&[("A1", "x\"y"), ("B2", "é")])),
            r#"{"A1":"x\"y","B2":"é"}"#
        );
        let fill = 4096 - r#"{"KK":""}"#.len();
        assert!(validate_environment(&pairs(&[("KK", &"v".repeat(fill))])).is_ok());
        let big = pairs(&[("KK", &"v".repeat(fill + 1))]);
        let (k, m) = msg(validate_environment(&big));
        assert_eq!(k, ErrorKind::InvalidParameterValue);
        assert_eq!(m, format!("Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {}", environment_json(&big)));
        // Multi-byte characters count in UTF-8 bytes.
        let fill_chars = fill / 2 + 1;
        assert!(validate_environment(&pairs(&[("KK", &"é".repeat(fill_chars))])).is_err());
    }

    #[test]
    fn layers() {
        let l = |n: &str, v: u32| format!("arn:aws:lambda:us-west-2:123456789012:layer:{n}:{v}");
        assert!(validate_layers(&[]).is_ok());
        assert!(validate_layers(&[
            l("a", 1),
            l("b", 2),
            s("arn:aws:lambda:::awslayer:AWSLambda-Python")
        ])
        .is_ok());
        let six: Vec<String> = (0..6).map(|i| l(&format!("l{i}"), 1)).collect();
        assert_eq!(
            msg(validate_layers(&six)),
            (
                ErrorKind::InvalidParameterValue,
                s("Cannot reference more than 5 layers.")
            )
        );
        assert_eq!(
            msg(validate_layers(&[l("a", 1), l("b", 1), l("a", 2)])),
            (
                ErrorKind::InvalidParameterValue,
                s("Two different versions of the same layer are not allowed to be referenced in the same function. arn:aws:lambda:us-west-2:123456789012:layer:a:1 and arn:aws:lambda:us-west-2:123456789012:layer:a:2 are versions of the same layer.")
            )
        );
        let bad = s("arn:aws:lambda:us-west-2:123456789012:layer:a");
        let (k, m) = msg(validate_layers(std::slice::from_ref(&bad)));
        assert_eq!(k, ErrorKind::Validation);
        assert_eq!(m, format!("1 validation error detected: Value '[{bad}]' at 'layers' failed to satisfy constraint: {LAYERS_CONSTRAINT}"));
        assert!(m.contains("Member must satisfy constraint: [Member must have length less than or equal to 140, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+), Member must not be null]"));
        assert!(validate_layers(&[l(&"n".repeat(100), 1)]).is_err());
        assert_eq!(layer_region_mismatch("us-west-2").message, "Layers are not in the same region as the function. Layers are expected to be in region us-west-2.");
    }

    #[test]
    fn architectures_and_enums() {
        assert!(validate_architectures(&[s("x86_64")]).is_ok());
        assert!(validate_architectures(&[s("arm64")]).is_ok());
        assert_eq!(
            msg(validate_architectures(&[s("x86_64"), s("arm64")])).1,
            "1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1"
        );
        assert_eq!(
            msg(validate_architectures(&[s("x86")])).1,
            "1 validation error detected: Value '[x86]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]"
        );
        assert_eq!(
            msg(validate_architectures(&[])).1,
            "1 validation error detected: Value '[]' at 'architectures' failed to satisfy constraint: Member must have length greater than or equal to 1"
        );
        assert!(msg(validate_architectures(&[s("a"), s("b")]))
            .1
            .starts_with("2 validation errors detected"));
        assert!(validate_package_type("Zip").is_ok() && validate_package_type("Image").is_ok());
        assert_eq!(
            msg(validate_package_type("zip")).1,
            "1 validation error detected: Value 'zip' at 'packageType' failed to satisfy constraint: Member must satisfy enum value set: [Zip, Image]"
        );
        assert!(
            validate_tracing_mode("Active").is_ok() && validate_tracing_mode("PassThrough").is_ok()
        );
        assert_eq!(
            msg(validate_tracing_mode("On")).1,
            "1 validation error detected: Value 'On' at 'tracingConfig.mode' failed to satisfy constraint: Member must satisfy enum value set: [Active, PassThrough]"
        );
        assert_eq!(
            msg(validate_function_version_filter("1")).1,
            "1 validation error detected: Value '1' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]"
        );
    }

    #[test]
    fn tags() {
        assert!(validate_tags(&[]).is_ok());
        assert!(validate_tags(&pairs(&[
            ("env", "prod"),
            ("team:a/b", "x y@z=+-_."),
            ("ключ", "значение"),
            ("k", "")
        ]))
        .is_ok());
        let fifty_one: Vec<(String, String)> = (0..51).map(|i| (format!("k{i}"), s("v"))).collect();
        assert_eq!(
            msg(validate_tags(&fifty_one)),
            (
                ErrorKind::InvalidParameterValue,
                s("Number of tags exceeds resource tag limit.")
            )
        );
        assert!(validate_tags(&fifty_one[..50]).is_ok());
        for key in ["aws:foo", "AWS:x", "Aws:"] {
            assert_eq!(
                msg(validate_tags(&pairs(&[(key, "v")]))).0,
                ErrorKind::InvalidParameterValue,
                "{key}"
            );
        }
        assert!(validate_tags(&pairs(&[("awsx", "v")])).is_ok());
        assert_eq!(
            msg(validate_tags(&pairs(&[("", "v")]))).1,
            r"1 validation error detected: Value '{=v}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ([\p{L}\p{Z}\p{N}_.:/=+\-@]*), Member must not be null]"
        );
        assert_eq!(
            msg(validate_tags(&pairs(&[(&"k".repeat(129), "v")]))).0,
            ErrorKind::Validation
        );
        assert_eq!(
            msg(validate_tags(&pairs(&[("k", &"v".repeat(257))]))).0,
            ErrorKind::Validation
        );
        assert_eq!(
            msg(validate_tags(&pairs(&[("k", "a#b")]))).0,
            ErrorKind::Validation
        );
        assert!(msg(validate_tags(&pairs(&[("k!", "a#b")])))
            .1
            .starts_with("2 validation errors detected"));
        assert!(validate_tag_keys(&[s("a"), s("b")]).is_ok());
        assert_eq!(
            msg(validate_tag_keys(&[])).1,
            "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null"
        );
        assert!(validate_tag_keys(&[s("")]).is_err());
    }

    #[test]
    fn aliases_and_versions() {
        for ok in ["live", "prod-1", "v_2", "1a", "a", &"a".repeat(128)] {
            assert_eq!(validate_alias_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            msg(validate_alias_name("123")).1,
            "1 validation error detected: Value '123' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"
        );
        assert!(msg(validate_alias_name(""))
            .1
            .starts_with("2 validation errors detected"));
        assert!(validate_alias_name("$LATEST").is_err());
        assert!(validate_alias_name(&"a".repeat(129)).is_err());
        for ok in ["$LATEST", "1", "42"] {
            assert!(validate_alias_function_version(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            msg(validate_alias_function_version("live")).1,
            r"1 validation error detected: Value 'live' at 'functionVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: (\$LATEST|[0-9]+)"
        );
        assert!(is_version_number("12") && !is_version_number("1.2") && !is_version_number(""));
        assert!(is_alias_name("a1") && !is_alias_name("12") && !is_alias_name(""));
    }

    #[test]
    fn routing_configs() {
        let w = |v: &[(&str, f64)]| v.iter().map(|(k, x)| (s(k), *x)).collect::<Vec<_>>();
        assert!(validate_routing_config(&[], "1").is_ok());
        assert!(validate_routing_config(&w(&[("2", 0.5)]), "1").is_ok());
        assert!(validate_routing_config(&w(&[("2", 0.0)]), "1").is_ok());
        assert!(validate_routing_config(&w(&[("2", 1.0)]), "1").is_ok());
        type Case<'a> = (&'a [(&'a str, f64)], &'a str, ErrorKind, &'a str);
        let cases: &[Case] = &[
            (&[("2", 0.5), ("3", 0.1)], "1", ErrorKind::InvalidParameterValue, "Number of items in AdditionalVersionWeights cannot be greater than 1"),
            (&[("1", 0.5)], "1", ErrorKind::InvalidParameterValue, "Invalid function version 1. Function version 1 is already included in routing configuration."),
            (&[("2", 0.5)], "$LATEST", ErrorKind::InvalidParameterValue, "$LATEST is not supported for an alias pointing to more than 1 version"),
            (&[("2", 1.5)], "1", ErrorKind::Validation, "1 validation error detected: Value '{2=1.5}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]"),
            (&[("live", 0.5)], "1", ErrorKind::Validation, "1 validation error detected: Value '{live=0.5}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+, Member must not be null]"),
            (&[("2", f64::NAN)], "1", ErrorKind::Validation, "1 validation error detected: Value '{2=NaN}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]"),
        ];
        for (weights, version, kind, m) in cases {
            assert_eq!(
                msg(validate_routing_config(&w(weights), version)),
                (*kind, (*m).to_owned())
            );
        }
    }

    #[test]
    fn java_doubles() {
        let cases = [
            (1.0, "1.0"),
            (0.5, "0.5"),
            (0.0, "0.0"),
            (-2.0, "-2.0"),
            (1.5e-5, "1.5E-5"),
            (1e-5, "1.0E-5"),
            (12345678.0, "1.2345678E7"),
            (0.001, "0.001"),
            (f64::INFINITY, "Infinity"),
        ];
        for (v, want) in cases {
            assert_eq!(java_double(v), want, "{v}");
        }
    }

    #[test]
    fn qualifiers() {
        for ok in ["$LATEST", "1", "live", "a_b-c$"] {
            assert!(validate_qualifier(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            msg(validate_qualifier("a.b")).1,
            "1 validation error detected: Value 'a.b' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)"
        );
        assert_eq!(
            msg(validate_qualifier("")).1,
            "1 validation error detected: Value '' at 'qualifier' failed to satisfy constraint: Member must have length greater than or equal to 1"
        );
        assert!(validate_qualifier(&"q".repeat(129)).is_err());
    }

    #[test]
    fn permissions() {
        assert!(validate_statement_id("sid-1_a").is_ok());
        assert_eq!(
            msg(validate_statement_id("a.b")).1,
            "1 validation error detected: Value 'a.b' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)"
        );
        assert!(validate_namespaced_statement_id("a.b").is_ok());
        assert!(validate_namespaced_statement_id("a b").is_err());
        assert!(validate_statement_id(&"s".repeat(100)).is_ok());
        assert!(validate_statement_id(&"s".repeat(101)).is_err());
        assert!(validate_statement_id("").is_err());
        for ok in [
            "lambda:InvokeFunction",
            "lambda:*",
            "*",
            "lambda:GetFunctionUrlConfig",
        ] {
            assert!(validate_action(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "lambda:",
            "s3:GetObject",
            "lambda:Invoke-Function",
            "lambda:**",
            "**",
        ] {
            assert!(validate_action(bad).is_err(), "{bad}");
        }
        assert_eq!(
            msg(validate_action("s3:GetObject")).1,
            "1 validation error detected: Value 's3:GetObject' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])"
        );
        assert!(validate_principal("s3.amazonaws.com").is_ok());
        assert!(validate_principal("").is_err());
        assert!(validate_principal("a b").is_err());
        let kinds = [
            ("*", PrincipalKind::Anyone),
            ("123456789012", PrincipalKind::Account),
            ("s3.amazonaws.com", PrincipalKind::Service),
            ("arn:aws:iam::123456789012:role/r", PrincipalKind::IamArn),
        ];
        for (p, k) in kinds {
            assert_eq!(validate_permission_principal(p), Ok(k), "{p}");
        }
        assert_eq!(
            msg(validate_permission_principal("bob")),
            (
                ErrorKind::InvalidParameterValue,
                s("The provided principal was invalid. Please check the principal and try again.")
            )
        );
        assert!(validate_layer_permission_action("lambda:GetLayerVersion").is_ok());
        assert_eq!(
            msg(validate_layer_permission_action("lambda:*")).1,
            "1 validation error detected: Value 'lambda:*' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: lambda:GetLayerVersion"
        );
        for ok in ["*", "123456789012", "arn:aws:iam::123456789012:root"] {
            assert!(validate_layer_permission_principal(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "arn:aws:iam::123456789012:user/x",
            "12345",
            "arn::iam::123456789012:root",
        ] {
            assert!(validate_layer_permission_principal(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn layer_publishing() {
        assert!(validate_layer_name("my-layer").is_ok());
        assert!(validate_layer_name("bad name").is_err());
        assert!(validate_layer_compatibility(
            &[s("python3.12"), s("nodejs22.x")],
            &[s("x86_64"), s("arm64")]
        )
        .is_ok());
        assert!(validate_compatible_runtimes(&[s("python2.7"), s("nasa")]).is_ok());
        let sixteen: Vec<String> = crate::runtimes::RUNTIMES
            .iter()
            .take(16)
            .map(|r| s(r.id))
            .collect();
        assert_eq!(
            msg(validate_compatible_runtimes(&sixteen)).1,
            format!("1 validation error detected: Value '{}' at 'compatibleRuntimes' failed to satisfy constraint: Member must have length less than or equal to 15", java_list(&sixteen))
        );
        let (k, m) = msg(validate_compatible_runtimes(&[s("python9")]));
        assert_eq!(k, ErrorKind::Validation);
        assert!(m.starts_with("1 validation error detected: Value '[python9]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: [nodejs16.x, "), "{m}");
        assert_eq!(
            msg(validate_compatible_architectures(&[s("x86")])).1,
            "1 validation error detected: Value '[x86]' at 'compatibleArchitectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]"
        );
        assert_eq!(
            msg(validate_compatible_architectures(&[s("x86_64"), s("arm64"), s("x86_64")])).1,
            "1 validation error detected: Value '[x86_64, arm64, x86_64]' at 'compatibleArchitectures' failed to satisfy constraint: Member must have length less than or equal to 2"
        );
        assert!(msg(validate_layer_compatibility(&[s("x")], &[s("y")]))
            .1
            .starts_with("2 validation errors detected: Value '[x]' at 'compatibleRuntimes'"));
        assert!(validate_compatible_runtime("nasa").is_ok());
        let m = msg(validate_compatible_runtime("python9")).1;
        assert!(m.starts_with("1 validation error detected: Value 'python9' at 'compatibleRuntime' failed to satisfy constraint: Member must satisfy enum value set: [ruby3.5, ruby2.6, "), "{m}");
        assert_eq!(
            msg(validate_compatible_architecture("x86")).1,
            "1 validation error detected: Value 'x86' at 'compatibleArchitecture' failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]"
        );
    }

    #[test]
    fn runtime_reexport() {
        assert!(validate_runtime("python3.12").is_ok());
        assert_eq!(
            msg(validate_runtime("cobol")).0,
            ErrorKind::InvalidParameterValue
        );
    }

    #[test]
    fn odd_inputs_never_panic() {
        let huge = "ü".repeat(200_000);
        let inputs: Vec<String> = [
            "",
            " ",
            "\u{0}",
            "🦀",
            "aws:",
            "a:b:c",
            "\u{FEFF}",
            "\u{2028}",
            "$",
            "$LATEST",
            "arn:aws:iam::",
            "arn:aws:iam::123456789012ü:role",
            "arn:aws:iam::ü23456789012:role/x",
        ]
        .iter()
        .map(|x| s(x))
        .chain([huge.clone()])
        .collect();
        for x in &inputs {
            let _ = validate_function_name(x);
            let _ = validate_handler(x);
            let _ = validate_role(x);
            let _ = validate_description(x);
            let _ = validate_environment(&[(x.clone(), x.clone())]);
            let _ = validate_layers(std::slice::from_ref(x));
            let _ = validate_architectures(std::slice::from_ref(x));
            let _ = validate_package_type(x);
            let _ = validate_tags(&[(x.clone(), x.clone())]);
            let _ = validate_tag_keys(std::slice::from_ref(x));
            let _ = validate_alias_name(x);
            let _ = validate_alias_function_version(x);
            let _ = validate_routing_config(&[(x.clone(), 0.5)], x);
            let _ = validate_statement_id(x);
            let _ = validate_namespaced_statement_id(x);
            let _ = validate_qualifier(x);
            let _ = validate_tracing_mode(x);
            let _ = validate_layer_name(x);
            let _ = validate_compatible_runtimes(std::slice::from_ref(x));
            let _ = validate_compatible_runtime(x);
            let _ = validate_compatible_architecture(x);
            let _ = validate_action(x);
            let _ = validate_principal(x);
            let _ = validate_permission_principal(x);
            let _ = validate_layer_permission_action(x);
            let _ = validate_layer_permission_principal(x);
            let _ = validate_runtime(x);
        }
        for v in [f64::MAX, f64::MIN_POSITIVE, -0.0, f64::NEG_INFINITY] {
            let _ = java_double(v);
            let _ = validate_routing_config(&[(s("2"), v)], "1");
        }
    }

    /// Cross-checks quoted patterns against botocore's model when it is on disk.
    #[test]
    fn patterns_match_service_model_when_available() {
        let Ok(text) = std::fs::read_to_string("/tmp/bc/lambda.json") else {
            return;
        };
        let model: serde_json::Value = serde_json::from_str(&text).unwrap();
        let shapes = &model["shapes"];
        let cases = [
            ("Handler", HANDLER_PATTERN),
            ("RoleArn", ROLE_PATTERN),
            ("EnvironmentVariableName", ENV_KEY_PATTERN),
            ("TagKey", TAG_PATTERN),
            ("TagValue", TAG_PATTERN),
            ("Alias", ALIAS_PATTERN),
            ("Version", VERSION_PATTERN),
            ("StatementId", STATEMENT_ID_PATTERN),
            ("NamespacedStatementId", NAMESPACED_STATEMENT_ID_PATTERN),
            ("Qualifier", QUALIFIER_PATTERN),
            ("Action", ACTION_PATTERN),
            ("Principal", PRINCIPAL_PATTERN),
            ("LayerPermissionAllowedAction", LAYER_ACTION_PATTERN),
            ("LayerPermissionAllowedPrincipal", LAYER_PRINCIPAL_PATTERN),
        ];
        for (shape, pat) in cases {
            assert_eq!(shapes[shape]["pattern"].as_str(), Some(pat), "{shape}");
        }
        assert_eq!(
            shapes["Handler"]["max"].as_u64(),
            Some(MAX_HANDLER_LEN as u64)
        );
        assert_eq!(
            shapes["Description"]["max"].as_u64(),
            Some(MAX_DESCRIPTION_LEN as u64)
        );
        assert_eq!(shapes["MemorySize"]["min"].as_i64(), Some(MEMORY_RANGE.0));
        assert_eq!(shapes["Timeout"]["min"].as_i64(), Some(TIMEOUT_RANGE.0));
        assert_eq!(
            shapes["EphemeralStorageSize"]["min"].as_i64(),
            Some(EPHEMERAL_STORAGE_RANGE.0)
        );
        assert_eq!(shapes["MaxListItems"]["max"].as_i64(), Some(10000));
        assert_eq!(
            shapes["CompatibleRuntimes"]["max"].as_u64(),
            Some(MAX_COMPATIBLE_RUNTIMES as u64)
        );
        assert_eq!(
            shapes["CompatibleArchitectures"]["max"].as_u64(),
            Some(MAX_COMPATIBLE_ARCHITECTURES as u64)
        );
        let archs: Vec<&str> = shapes["Architecture"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(archs, ARCHITECTURES);
    }
}
