//! Function and layer names and ARNs: parsing the forms the Lambda API accepts (name, partial ARN,
//! full ARN, with or without a qualifier), building ARNs, and AWS's errors for malformed, qualified,
//! cross-region and cross-account references.
//!
//! Matching follows the service model's patterns exactly (full-string match, Java regex semantics,
//! first match of a backtracking engine), written as hand-rolled checks over the `:`-separated parts.

use crate::error::{AwsError, AwsResult, ErrorKind};
use crate::validate::{
    constraint_violation, max_len, min_len, pattern, single_error_message, utf16_len,
    validate_qualifier, validation_error,
};

/// Model pattern of `FunctionName` (most operations' `FunctionName` path parameter).
pub const FUNCTION_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?";
/// Model pattern of `NamespacedFunctionName` (GetFunction, Invoke, DeleteFunction, AddPermission, ...).
pub const NAMESPACED_FUNCTION_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?";
/// Model pattern of `UnqualifiedFunctionName`.
pub const UNQUALIFIED_FUNCTION_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)";
/// Model pattern of `LayerNameOrArn` (the `LayerName` path parameter).
pub const LAYER_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:layer:[a-zA-Z0-9-_]{1,140}|[a-zA-Z0-9-_]{1,140})";
/// Model pattern of `LayerVersionArn`.
pub const LAYER_VERSION_ARN_PATTERN: &str = r"((arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+))";
/// Model pattern of `TaggableResource` (the `Resource` of TagResource, UntagResource, ListTags).
pub const TAGGABLE_RESOURCE_PATTERN: &str = r"arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|(capacity-provider|network-connector):[a-zA-Z0-9-_]{1,64})";

/// Longest bare function name CreateFunction accepts.
pub const MAX_FUNCTION_NAME_LEN: usize = 64;

/// A function named by name, partial ARN or full ARN, with an optional qualifier (version or alias).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    /// The bare function name.
    pub name: String,
    /// The version (`$LATEST`, `1`, ...) or alias, if one was given.
    pub qualifier: Option<String>,
}

/// Which model shape a function-name parameter has; each has its own pattern and length limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameShape {
    /// `FunctionName`: up to 140 characters, qualifier `$LATEST` or `[a-zA-Z0-9-_]+`.
    Function,
    /// `NamespacedFunctionName`: up to 256 characters, `.` allowed in names, `$LATEST.PUBLISHED` allowed.
    Namespaced,
    /// `UnqualifiedFunctionName`: up to 140 characters, no qualifier.
    Unqualified,
}

impl NameShape {
    /// The model pattern quoted in AWS's error message.
    pub fn pattern(self) -> &'static str {
        match self {
            Self::Function => FUNCTION_NAME_PATTERN,
            Self::Namespaced => NAMESPACED_FUNCTION_NAME_PATTERN,
            Self::Unqualified => UNQUALIFIED_FUNCTION_NAME_PATTERN,
        }
    }

    /// The model's maximum length (UTF-16 code units, as the Java service counts).
    pub fn max_len(self) -> usize {
        match self {
            Self::Namespaced => 256,
            Self::Function | Self::Unqualified => 140,
        }
    }

    fn name_ok(self, s: &str) -> bool {
        let dot = self == Self::Namespaced;
        !s.is_empty() && s.bytes().all(|b| is_name_byte(b) || (dot && b == b'.'))
    }

    fn qualifier_ok(self, s: &str) -> bool {
        match self {
            Self::Unqualified => false,
            Self::Function => s == "$LATEST" || is_name_token(s),
            Self::Namespaced => s == "$LATEST" || s == "$LATEST.PUBLISHED" || is_name_token(s),
        }
    }
}

/// The parts of a syntactically valid function reference; absent parts were not written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionLocator {
    /// The ARN partition (`aws`, `aws-cn`, possibly empty) when an `arn:...:lambda:` prefix was given.
    pub partition: Option<String>,
    /// The region, when given.
    pub region: Option<String>,
    /// The 12-digit account id, when given.
    pub account: Option<String>,
    /// The bare function name.
    pub name: String,
    /// The qualifier, when given.
    pub qualifier: Option<String>,
}

/// A function reference resolved against the server: the owning account plus name and qualifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedFunction {
    /// The account named by the reference, or the caller's when none was written.
    pub account: String,
    /// The function name and qualifier.
    pub function: FunctionRef,
}

pub(crate) fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// `[a-zA-Z0-9-_]+`
pub(crate) fn is_name_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_name_byte)
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `(aws[a-zA-Z-]*)?` — empty or `aws` followed by letters and dashes.
fn is_optional_partition(s: &str) -> bool {
    s.is_empty() || is_partition(s)
}

/// `aws[a-zA-Z-]*`
fn is_partition(s: &str) -> bool {
    s.strip_prefix("aws")
        .is_some_and(|r| r.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-'))
}

/// Whether `s` matches the model's region pattern
/// `(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}` in full.
pub fn is_region(s: &str) -> bool {
    let b = s.as_bytes();
    region_body(b) || b.strip_prefix(b"eusc-").is_some_and(region_body)
}

fn region_body(b: &[u8]) -> bool {
    if b.len() < 2 || !b[0].is_ascii_lowercase() || !b[1].is_ascii_lowercase() {
        return false;
    }
    let rest = &b[2..];
    if region_tail(rest) {
        return true;
    }
    if rest.strip_prefix(b"-gov").is_some_and(region_tail) {
        return true;
    }
    if let Some(r) = rest.strip_prefix(b"-iso") {
        if region_tail(r) {
            return true;
        }
        if let Some((first, tail)) = r.split_first() {
            if first.is_ascii_lowercase() && region_tail(tail) {
                return true;
            }
        }
    }
    false
}

/// `-[a-z]+-\d`
fn region_tail(b: &[u8]) -> bool {
    let n = b.len();
    n >= 4
        && b[0] == b'-'
        && b[n - 2] == b'-'
        && b[n - 1].is_ascii_digit()
        && b[1..n - 2].iter().all(u8::is_ascii_lowercase)
}

/// Matches the tokens against `(arn:P:lambda:)?(R:)?(A:)?(function:)?N(:Q)?` with greedy optional
/// groups tried present-first, exactly as a backtracking regex engine would.
fn match_function_tokens(tokens: &[&str], shape: NameShape) -> Option<FunctionLocator> {
    for with_arn in [true, false] {
        let (start, partition) = if with_arn {
            if tokens.len() < 3
                || tokens[0] != "arn"
                || !is_optional_partition(tokens[1])
                || tokens[2] != "lambda"
            {
                continue;
            }
            (3, Some(tokens[1]))
        } else {
            (0, None)
        };
        for with_region in [true, false] {
            let mut i = start;
            let region = if with_region {
                match tokens.get(i) {
                    Some(t) if is_region(t) => {
                        i += 1;
                        Some(*t)
                    }
                    _ => continue,
                }
            } else {
                None
            };
            for with_account in [true, false] {
                let mut j = i;
                let account = if with_account {
                    match tokens.get(j) {
                        Some(t) if is_account(t) => {
                            j += 1;
                            Some(*t)
                        }
                        _ => continue,
                    }
                } else {
                    None
                };
                for with_function in [true, false] {
                    let mut k = j;
                    if with_function {
                        if tokens.get(k) != Some(&"function") {
                            continue;
                        }
                        k += 1;
                    }
                    let Some(name) = tokens.get(k) else { continue };
                    if !shape.name_ok(name) {
                        continue;
                    }
                    let rest = &tokens[k + 1..];
                    let qualifier = match rest {
                        [] => None,
                        [q] if shape.qualifier_ok(q) => Some(*q),
                        _ => continue,
                    };
                    return Some(FunctionLocator {
                        partition: partition.map(str::to_owned),
                        region: region.map(str::to_owned),
                        account: account.map(str::to_owned),
                        name: (*name).to_owned(),
                        qualifier: qualifier.map(str::to_owned),
                    });
                }
            }
        }
    }
    None
}

/// Parses a function-name parameter of `shape` syntactically, with AWS's ValidationException
/// (length and pattern constraints at `functionName`) when it is malformed.
pub fn parse_function_locator(input: &str, shape: NameShape) -> AwsResult<FunctionLocator> {
    let mut errors = Vec::new();
    let len = utf16_len(input);
    if len < 1 {
        errors.push(constraint_violation(input, "functionName", &min_len(1)));
    }
    if len > shape.max_len() {
        errors.push(constraint_violation(
            input,
            "functionName",
            &max_len(shape.max_len()),
        ));
    }
    let tokens: Vec<&str> = input.split(':').collect();
    let located = match_function_tokens(&tokens, shape);
    if located.is_none() {
        errors.push(constraint_violation(
            input,
            "functionName",
            &pattern(shape.pattern()),
        ));
    }
    match located {
        Some(loc) if errors.is_empty() => Ok(loc),
        _ => Err(validation_error(errors)),
    }
}

/// ResourceNotFoundException for an ARN naming another region than the server's.
pub fn other_region_error(arn_region: &str, region: &str) -> AwsError {
    AwsError::not_found(format!(
        "Functions from '{arn_region}' are not reachable in this region ('{region}')"
    ))
}

/// AccessDeniedException for a reference to a resource of another account.
pub fn other_account_error(resource_arn: &str) -> AwsError {
    AwsError::new(
        ErrorKind::AccessDenied,
        format!("User is not authorized to perform this action on resource: {resource_arn}"),
    )
}

/// AWS's AccessDeniedException text when no policy lets `caller_arn` perform `action` on `resource_arn`:
/// `User: <caller> is not authorized to perform: <action> on resource: <arn> because no resource-based policy allows the <action> action`.
pub fn access_denied(caller_arn: &str, action: &str, resource_arn: &str) -> AwsError {
    AwsError::new(
        ErrorKind::AccessDenied,
        format!(
            "User: {caller_arn} is not authorized to perform: {action} on resource: {resource_arn} because no resource-based policy allows the {action} action"
        ),
    )
}

/// Parses and resolves a function reference of `shape` against the server's `region`; an ARN of
/// another region is ResourceNotFoundException. The account is returned, not checked.
pub fn resolve_function(
    input: &str,
    account: &str,
    region: &str,
    shape: NameShape,
) -> AwsResult<ResolvedFunction> {
    let loc = parse_function_locator(input, shape)?;
    if let Some(r) = loc.region.as_deref() {
        if r != region {
            return Err(other_region_error(r, region));
        }
    }
    Ok(ResolvedFunction {
        account: loc.account.unwrap_or_else(|| account.to_owned()),
        function: FunctionRef {
            name: loc.name,
            qualifier: loc.qualifier,
        },
    })
}

/// Parses a function reference of `shape`; an ARN of another account is AccessDeniedException, of
/// another region ResourceNotFoundException, a malformed one AWS's ValidationException.
pub fn parse_function_ref_as(
    input: &str,
    account: &str,
    region: &str,
    shape: NameShape,
) -> AwsResult<FunctionRef> {
    let loc = parse_function_locator(input, shape)?;
    if let Some(a) = loc.account.as_deref() {
        if a != account {
            let arn_region = loc.region.as_deref().unwrap_or(region);
            return Err(other_account_error(&function_arn(arn_region, a, &loc.name)));
        }
    }
    if let Some(r) = loc.region.as_deref() {
        if r != region {
            return Err(other_region_error(r, region));
        }
    }
    Ok(FunctionRef {
        name: loc.name,
        qualifier: loc.qualifier,
    })
}

/// Parse the FunctionName path parameter: `my-function`, `my-function:v1`,
/// `123456789012:function:my-function[:q]`, `arn:aws:lambda:us-west-2:123456789012:function:my-function[:q]`.
/// `account`/`region` are the server's; an ARN naming another account (AccessDeniedException) or
/// region (ResourceNotFoundException) is refused. Malformed -> AWS's ValidationException text with the
/// model's `FunctionName` pattern at 'functionName'.
pub fn parse_function_ref(input: &str, account: &str, region: &str) -> AwsResult<FunctionRef> {
    parse_function_ref_as(input, account, region, NameShape::Function)
}

/// Parses CreateFunction's `FunctionName` (a name, partial ARN or unqualified full ARN) the way AWS
/// does: a bare name over 64 characters is InvalidParameterValueException, a qualified or otherwise
/// unusable reference a ValidationException with the pattern; returns the bare name.
pub fn parse_create_function_name(input: &str, account: &str, region: &str) -> AwsResult<String> {
    if !input.contains(':') {
        crate::validate::validate_function_name(input)?;
        return Ok(input.to_owned());
    }
    let loc = parse_function_locator(input, NameShape::Function)?;
    match (&loc.region, &loc.account, &loc.qualifier) {
        (None, None, None) => {}
        (None, Some(a), None) => {
            if a != account {
                return Err(other_account_error(&function_arn(region, a, &loc.name)));
            }
        }
        (Some(r), Some(a), None) => {
            if r != region {
                return Err(other_region_error(r, region));
            }
            if a != account {
                return Err(other_account_error(&function_arn(r, a, &loc.name)));
            }
        }
        _ => {
            return Err(validation_error(vec![constraint_violation(
                input,
                "functionName",
                &pattern(FUNCTION_NAME_PATTERN),
            )]))
        }
    }
    if utf16_len(&loc.name) > MAX_FUNCTION_NAME_LEN {
        return Err(AwsError::invalid(single_error_message(
            &constraint_violation(&loc.name, "functionName", &max_len(MAX_FUNCTION_NAME_LEN)),
        )));
    }
    Ok(loc.name)
}

/// When the path carries a qualifier in the name AND a Qualifier query param differs ->
/// InvalidParameterValueException ("The derived qualifier from the function name does not match the
/// specified qualifier."). The query parameter is validated (ValidationException at 'qualifier'); an
/// empty one counts as absent. Returns the reference with the effective qualifier.
pub fn merge_qualifier(r: FunctionRef, qualifier: Option<&str>) -> AwsResult<FunctionRef> {
    let Some(q) = qualifier.filter(|q| !q.is_empty()) else {
        return Ok(r);
    };
    validate_qualifier(q)?;
    if let Some(derived) = r.qualifier.as_deref() {
        if derived != q {
            return Err(AwsError::invalid(
                "The derived qualifier from the function name does not match the specified qualifier.",
            ));
        }
    }
    Ok(FunctionRef {
        name: r.name,
        qualifier: Some(q.to_owned()),
    })
}

/// The ARN partition of `region` (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`, `aws-iso-e`,
/// `aws-iso-f`, `aws-eusc`), by botocore's partition region prefixes; `aws` for anything else.
pub fn partition_for_region(region: &str) -> &'static str {
    const PREFIXES: [(&str, &str); 7] = [
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("us-iso-", "aws-iso"),
        ("eu-isoe-", "aws-iso-e"),
        ("cn-", "aws-cn"),
        ("eusc-", "aws-eusc"),
    ];
    PREFIXES
        .iter()
        .find(|(p, _)| region.starts_with(p))
        .map_or("aws", |(_, part)| part)
}

/// `arn:aws:lambda:<region>:<account>:function:<name>`
pub fn function_arn(region: &str, account: &str, name: &str) -> String {
    format!(
        "arn:{}:lambda:{region}:{account}:function:{name}",
        partition_for_region(region)
    )
}

/// `arn:aws:lambda:<region>:<account>:function:<name>:<qualifier>`
pub fn qualified_function_arn(region: &str, account: &str, name: &str, qualifier: &str) -> String {
    format!("{}:{qualifier}", function_arn(region, account, name))
}

/// `arn:aws:lambda:<region>:<account>:layer:<name>`
pub fn layer_arn(region: &str, account: &str, name: &str) -> String {
    format!(
        "arn:{}:lambda:{region}:{account}:layer:{name}",
        partition_for_region(region)
    )
}

/// `arn:aws:lambda:<region>:<account>:layer:<name>:<version>`
pub fn layer_version_arn(region: &str, account: &str, name: &str, version: u64) -> String {
    format!("{}:{version}", layer_arn(region, account, name))
}

/// A layer named by name or by (unversioned) layer ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerLocator {
    /// The region of the ARN, when an ARN was given.
    pub region: Option<String>,
    /// The account of the ARN, when an ARN was given.
    pub account: Option<String>,
    /// The layer name.
    pub name: String,
}

fn is_layer_name(s: &str) -> bool {
    is_name_token(s) && s.len() <= 140
}

/// Parses the LayerName path parameter (model `LayerNameOrArn`): a name or a layer ARN without
/// version. Malformed -> ValidationException at 'layerName'.
pub fn parse_layer_name_or_arn(input: &str) -> AwsResult<LayerLocator> {
    let mut errors = Vec::new();
    let len = utf16_len(input);
    if len < 1 {
        errors.push(constraint_violation(input, "layerName", &min_len(1)));
    }
    if len > 2048 {
        errors.push(constraint_violation(input, "layerName", &max_len(2048)));
    }
    let parsed = if is_layer_name(input) {
        Some(LayerLocator {
            region: None,
            account: None,
            name: input.to_owned(),
        })
    } else {
        match input.split(':').collect::<Vec<_>>()[..] {
            ["arn", p, "lambda", r, a, "layer", n]
                if is_optional_partition(p)
                    && is_region(r)
                    && is_account(a)
                    && is_layer_name(n) =>
            {
                Some(LayerLocator {
                    region: Some(r.to_owned()),
                    account: Some(a.to_owned()),
                    name: n.to_owned(),
                })
            }
            _ => None,
        }
    };
    if parsed.is_none() {
        errors.push(constraint_violation(
            input,
            "layerName",
            &pattern(LAYER_NAME_PATTERN),
        ));
    }
    match parsed {
        Some(l) if errors.is_empty() => Ok(l),
        _ => Err(validation_error(errors)),
    }
}

/// LayerName path param: a name or a layer ARN (no version); returns the layer name. Use
/// [`parse_layer_name_or_arn`] to learn the account and region of an ARN.
pub fn parse_layer_name(input: &str) -> AwsResult<String> {
    parse_layer_name_or_arn(input).map(|l| l.name)
}

/// The syntactic forms of the model's `LayerVersionArn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerVersionRef {
    /// `arn:aws:lambda:<region>:<account>:layer:<name>:<version>` (version kept as written).
    Version {
        /// Region of the ARN.
        region: String,
        /// Account of the ARN.
        account: String,
        /// Layer name.
        name: String,
        /// The version digits as written (may exceed `u64`).
        version: String,
    },
    /// `arn:<partition>:lambda:::awslayer:<name>`: an AWS-managed layer.
    AwsLayer {
        /// Layer name.
        name: String,
    },
}

/// Matches the model's `LayerVersionArn` pattern in full.
pub fn match_layer_version_arn(input: &str) -> Option<LayerVersionRef> {
    match input.split(':').collect::<Vec<_>>()[..] {
        ["arn", p, "lambda", r, a, "layer", n, v]
            if is_optional_partition(p)
                && is_region(r)
                && is_account(a)
                && is_name_token(n)
                && !v.is_empty()
                && v.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Some(LayerVersionRef::Version {
                region: r.to_owned(),
                account: a.to_owned(),
                name: n.to_owned(),
                version: v.to_owned(),
            })
        }
        ["arn", p, "lambda", "", "", "awslayer", n]
            if !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && is_name_token(n) =>
        {
            Some(LayerVersionRef::AwsLayer { name: n.to_owned() })
        }
        _ => None,
    }
}

/// InvalidParameterValueException `Layer version <arn> does not exist.`
pub fn layer_version_not_found(arn: &str) -> AwsError {
    AwsError::invalid(format!("Layer version {arn} does not exist."))
}

/// A layer version ARN as used in CreateFunction Layers and GetLayerVersionByArn: returns (region,
/// account, name, version). Malformed -> ValidationException at 'arn' with the model pattern; an
/// AWS-managed `awslayer` ARN or a version beyond `u64` -> `Layer version <arn> does not exist.`
pub fn parse_layer_version_arn(input: &str) -> AwsResult<(String, String, String, u64)> {
    let mut errors = Vec::new();
    let len = utf16_len(input);
    if len < 1 {
        errors.push(constraint_violation(input, "arn", &min_len(1)));
    }
    if len > 2048 {
        errors.push(constraint_violation(input, "arn", &max_len(2048)));
    }
    let parsed = match_layer_version_arn(input);
    if parsed.is_none() {
        errors.push(constraint_violation(
            input,
            "arn",
            &pattern(LAYER_VERSION_ARN_PATTERN),
        ));
    }
    if !errors.is_empty() {
        return Err(validation_error(errors));
    }
    match parsed {
        Some(LayerVersionRef::Version {
            region,
            account,
            name,
            version,
        }) => match version.parse::<u64>() {
            Ok(v) => Ok((region, account, name, v)),
            Err(_) => Err(layer_version_not_found(input)),
        },
        _ => Err(layer_version_not_found(input)),
    }
}

/// The layer a layer version ARN belongs to: the ARN without its `:<version>` (the whole ARN for an
/// `awslayer` ARN); `None` when `arn` is not a layer version ARN.
pub fn layer_of_version_arn(arn: &str) -> Option<String> {
    match match_layer_version_arn(arn)? {
        LayerVersionRef::Version { .. } => arn.rsplit_once(':').map(|(l, _)| l.to_owned()),
        LayerVersionRef::AwsLayer { .. } => Some(arn.to_owned()),
    }
}

/// What a taggable ARN names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaggableKind {
    /// `function:<name>[:<qualifier>]`
    Function {
        /// Function name.
        name: String,
        /// Qualifier, when the ARN is qualified.
        qualifier: Option<String>,
    },
    /// `code-signing-config:csc-<17 chars>` (the id including `csc-`).
    CodeSigningConfig(String),
    /// `event-source-mapping:<uuid>`
    EventSourceMapping(String),
    /// `capacity-provider:<name>`
    CapacityProvider(String),
    /// `network-connector:<name>`
    NetworkConnector(String),
}

/// A parsed `TaggableResource` ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggableResource {
    /// Region of the ARN.
    pub region: String,
    /// Account of the ARN.
    pub account: String,
    /// What the ARN names.
    pub kind: TaggableKind,
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Parses the Resource of TagResource/ListTags/UntagResource against the model's `TaggableResource`
/// pattern; malformed -> ValidationException at 'resource'.
pub fn parse_taggable_resource(input: &str) -> AwsResult<TaggableResource> {
    let mut errors = Vec::new();
    let len = utf16_len(input);
    if len < 1 {
        errors.push(constraint_violation(input, "resource", &min_len(1)));
    }
    if len > 10000 {
        errors.push(constraint_violation(input, "resource", &max_len(10000)));
    }
    let tokens: Vec<&str> = input.split(':').collect();
    let parsed = match tokens[..] {
        ["arn", p, "lambda", r, a, ref rest @ ..]
            if is_partition(p) && is_region(r) && is_account(a) =>
        {
            let kind = match *rest {
                ["function", n] if is_name_token(n) => Some(TaggableKind::Function {
                    name: n.to_owned(),
                    qualifier: None,
                }),
                ["function", n, q] if is_name_token(n) && (q == "$LATEST" || is_name_token(q)) => {
                    Some(TaggableKind::Function {
                        name: n.to_owned(),
                        qualifier: Some(q.to_owned()),
                    })
                }
                ["code-signing-config", id]
                    if id.len() == 21
                        && id.starts_with("csc-")
                        && id[4..]
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) =>
                {
                    Some(TaggableKind::CodeSigningConfig(id.to_owned()))
                }
                ["event-source-mapping", id] if is_uuid(id) => {
                    Some(TaggableKind::EventSourceMapping(id.to_owned()))
                }
                ["capacity-provider", n] if is_name_token(n) && n.len() <= 64 => {
                    Some(TaggableKind::CapacityProvider(n.to_owned()))
                }
                ["network-connector", n] if is_name_token(n) && n.len() <= 64 => {
                    Some(TaggableKind::NetworkConnector(n.to_owned()))
                }
                _ => None,
            };
            kind.map(|kind| TaggableResource {
                region: r.to_owned(),
                account: a.to_owned(),
                kind,
            })
        }
        _ => None,
    };
    if parsed.is_none() {
        errors.push(constraint_violation(
            input,
            "resource",
            &pattern(TAGGABLE_RESOURCE_PATTERN),
        ));
    }
    match parsed {
        Some(t) if errors.is_empty() => Ok(t),
        _ => Err(validation_error(errors)),
    }
}

/// The Resource of TagResource/ListTags/UntagResource: a function ARN (unqualified; qualified ->
/// InvalidParameterValueException "Tags on function aliases and versions are not supported. Please
/// specify a function ARN."). Another account -> AccessDeniedException, another region ->
/// ResourceNotFoundException; a taggable ARN of another kind -> ResourceNotFoundException.
/// Returns the function name.
pub fn parse_taggable_function_arn(input: &str, account: &str, region: &str) -> AwsResult<String> {
    let res = parse_taggable_resource(input)?;
    let name = match res.kind {
        TaggableKind::Function {
            qualifier: Some(_), ..
        } => {
            return Err(AwsError::invalid(
                "Tags on function aliases and versions are not supported. Please specify a function ARN.",
            ))
        }
        TaggableKind::Function { name, .. } => name,
        _ => {
            return Err(AwsError::not_found(
                "The resource you requested does not exist.",
            ))
        }
    };
    if res.account != account {
        return Err(other_account_error(input));
    }
    if res.region != region {
        return Err(other_region_error(&res.region, region));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCT: &str = "123456789012";
    const REGION: &str = "us-west-2";

    fn fref(name: &str, q: Option<&str>) -> FunctionRef {
        FunctionRef {
            name: name.to_owned(),
            qualifier: q.map(str::to_owned),
        }
    }

    #[test]
    fn regions() {
        let good = [
            "us-east-1",
            "us-west-2",
            "eu-central-1",
            "ap-southeast-2",
            "us-gov-west-1",
            "us-iso-east-1",
            "us-isob-east-1",
            "cn-north-1",
            "eusc-de-east-1",
            "us-gov-1",
            "il-central-1",
        ];
        let bad = [
            "",
            "us-east",
            "us-east-10",
            "US-east-1",
            "use-east-1",
            "us-east-west-1",
            "u-east-1",
            "us--1",
            "eusc-east-1-",
            "us-isoab-east-1",
            "us-east-1 ",
            "ü-east-1",
        ];
        for r in good {
            assert!(is_region(r), "{r}");
        }
        for r in bad {
            assert!(!is_region(r), "{r}");
        }
    }

    #[test]
    fn function_refs() {
        let cases: &[(&str, FunctionRef)] = &[
            ("my-function", fref("my-function", None)),
            ("my_Function-1", fref("my_Function-1", None)),
            ("my-function:v1", fref("my-function", Some("v1"))),
            ("my-function:$LATEST", fref("my-function", Some("$LATEST"))),
            ("my-function:7", fref("my-function", Some("7"))),
            (
                "123456789012:function:my-function",
                fref("my-function", None),
            ),
            (
                "123456789012:function:my-function:prod",
                fref("my-function", Some("prod")),
            ),
            (
                "arn:aws:lambda:us-west-2:123456789012:function:my-function",
                fref("my-function", None),
            ),
            (
                "arn:aws:lambda:us-west-2:123456789012:function:my-function:1",
                fref("my-function", Some("1")),
            ),
            ("us-west-2:123456789012:function:f", fref("f", None)),
            ("function:f", fref("f", None)),
            ("function", fref("function", None)),
            ("123456789012", fref("123456789012", None)),
            // A 12-digit first part is taken as the account, as the regex engine does.
            ("123456789012:v1", fref("v1", None)),
            ("arn:aws:lambda:f", fref("f", None)),
            (
                "arn::lambda:us-west-2:123456789012:function:f",
                fref("f", None),
            ),
            (
                "arn:aws-cn:lambda:us-west-2:123456789012:function:f",
                fref("f", None),
            ),
            // The pattern reads this as function "layer" with qualifier "f", as AWS does.
            (
                "arn:aws:lambda:us-west-2:123456789012:layer:f",
                fref("layer", Some("f")),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                &parse_function_ref(input, ACCT, REGION).unwrap(),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn malformed_function_refs() {
        let p = FUNCTION_NAME_PATTERN;
        let cases: &[(&str, String)] = &[
            (
                "my function",
                format!("1 validation error detected: Value 'my function' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: {p}"),
            ),
            (
                "",
                format!("2 validation errors detected: Value '' at 'functionName' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: {p}"),
            ),
            (
                "f:",
                format!("1 validation error detected: Value 'f:' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: {p}"),
            ),
            (
                "f:a:b",
                format!("1 validation error detected: Value 'f:a:b' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: {p}"),
            ),
            (
                "f.g",
                format!("1 validation error detected: Value 'f.g' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: {p}"),
            ),
        ];
        for (input, msg) in cases {
            let e = parse_function_ref(input, ACCT, REGION).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Validation, "{input}");
            assert_eq!(&e.message, msg);
        }
        assert!(p.starts_with("(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}"));
        let long = "a".repeat(141);
        let e = parse_function_ref(&long, ACCT, REGION).unwrap_err();
        assert_eq!(
            e.message,
            format!("1 validation error detected: Value '{long}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 140")
        );
        for bad in [
            "$LATEST.PUBLISHED",
            "f:$LATEST.PUBLISHED",
            "f:$latest",
            "arn:aws:lambda:us-west-2:123456789012:layer:f:1",
        ] {
            assert!(parse_function_ref(bad, ACCT, REGION).is_err(), "{bad}");
        }
    }

    #[test]
    fn shapes() {
        let r = parse_function_ref_as(
            "my.fn:$LATEST.PUBLISHED",
            ACCT,
            REGION,
            NameShape::Namespaced,
        )
        .unwrap();
        assert_eq!(r, fref("my.fn", Some("$LATEST.PUBLISHED")));
        assert!(parse_function_ref_as("f:1", ACCT, REGION, NameShape::Unqualified).is_err());
        assert!(
            parse_function_ref_as(&"a".repeat(256), ACCT, REGION, NameShape::Namespaced).is_ok()
        );
        let e = parse_function_ref_as("f:1", ACCT, REGION, NameShape::Unqualified).unwrap_err();
        assert!(e.message.ends_with(UNQUALIFIED_FUNCTION_NAME_PATTERN));
        let e = parse_function_ref_as("a b", ACCT, REGION, NameShape::Namespaced).unwrap_err();
        assert!(e.message.ends_with(NAMESPACED_FUNCTION_NAME_PATTERN));
    }

    #[test]
    fn other_region_and_account() {
        let e = parse_function_ref(
            "arn:aws:lambda:eu-west-1:123456789012:function:f",
            ACCT,
            REGION,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::ResourceNotFound);
        assert_eq!(
            e.message,
            "Functions from 'eu-west-1' are not reachable in this region ('us-west-2')"
        );
        let e = parse_function_ref(
            "arn:aws:lambda:us-west-2:210987654321:function:f",
            ACCT,
            REGION,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::AccessDenied);
        assert!(e
            .message
            .contains("arn:aws:lambda:us-west-2:210987654321:function:f"));
        let e = parse_function_ref("210987654321:function:f", ACCT, REGION).unwrap_err();
        assert_eq!(e.kind, ErrorKind::AccessDenied);
        let r = resolve_function(
            "210987654321:function:f:1",
            ACCT,
            REGION,
            NameShape::Function,
        )
        .unwrap();
        assert_eq!(r.account, "210987654321");
        assert_eq!(r.function, fref("f", Some("1")));
        assert_eq!(
            resolve_function("f", ACCT, REGION, NameShape::Function)
                .unwrap()
                .account,
            ACCT
        );
        assert!(resolve_function(
            "us-east-1:123456789012:function:f",
            ACCT,
            REGION,
            NameShape::Function
        )
        .is_err());
        let e = access_denied(
            "arn:aws:iam::123456789012:user/alice",
            "lambda:GetFunction",
            "arn:aws:lambda:us-west-2:210987654321:function:f",
        );
        assert_eq!(e.message, "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: lambda:GetFunction on resource: arn:aws:lambda:us-west-2:210987654321:function:f because no resource-based policy allows the lambda:GetFunction action");
    }

    #[test]
    fn create_function_names() {
        let ok = [
            ("my-function", "my-function"),
            ("123456789012:function:my-function", "my-function"),
            (
                "arn:aws:lambda:us-west-2:123456789012:function:my-function",
                "my-function",
            ),
            ("function:abc", "abc"),
        ];
        for (input, name) in ok {
            assert_eq!(
                parse_create_function_name(input, ACCT, REGION).unwrap(),
                name,
                "{input}"
            );
        }
        let long = "a".repeat(65);
        let e = parse_create_function_name(&long, ACCT, REGION).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidParameterValue);
        assert_eq!(e.message, format!("1 validation error detected: Value '{long}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64"));
        let arn = format!("arn:aws:lambda:us-west-2:123456789012:function:{long}");
        let e = parse_create_function_name(&arn, ACCT, REGION).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidParameterValue);
        assert!(e.message.contains(&format!("Value '{long}'")));
        for q in [
            "my-function:1",
            "arn:aws:lambda:us-west-2:123456789012:function:f:$LATEST",
            "us-west-2:function:f",
        ] {
            let e = parse_create_function_name(q, ACCT, REGION).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Validation, "{q}");
            assert_eq!(e.message, format!("1 validation error detected: Value '{q}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: {FUNCTION_NAME_PATTERN}"));
        }
        let e = parse_create_function_name("my fn", ACCT, REGION).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Validation);
        let e = parse_create_function_name(
            "arn:aws:lambda:eu-west-1:123456789012:function:f",
            ACCT,
            REGION,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::ResourceNotFound);
        let e = parse_create_function_name("999999999999:function:f", ACCT, REGION).unwrap_err();
        assert_eq!(e.kind, ErrorKind::AccessDenied);
    }

    #[test]
    fn merging_qualifiers() {
        type Case<'a> = (
            FunctionRef,
            Option<&'a str>,
            Result<Option<&'a str>, &'a str>,
        );
        let cases: &[Case] = &[
            (fref("f", None), None, Ok(None)),
            (fref("f", None), Some("1"), Ok(Some("1"))),
            (fref("f", Some("1")), None, Ok(Some("1"))),
            (fref("f", Some("1")), Some("1"), Ok(Some("1"))),
            (fref("f", Some("1")), Some(""), Ok(Some("1"))),
            (
                fref("f", Some("1")),
                Some("2"),
                Err("The derived qualifier from the function name does not match the specified qualifier."),
            ),
            (
                fref("f", None),
                Some("a b"),
                Err("1 validation error detected: Value 'a b' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)"),
            ),
        ];
        for (r, q, want) in cases {
            let got = merge_qualifier(r.clone(), *q);
            match want {
                Ok(eq) => assert_eq!(got.unwrap().qualifier.as_deref(), *eq),
                Err(m) => assert_eq!(got.unwrap_err().message, *m),
            }
        }
        assert_eq!(
            merge_qualifier(fref("f", Some("1")), Some("2"))
                .unwrap_err()
                .kind,
            ErrorKind::InvalidParameterValue
        );
    }

    #[test]
    fn arn_building() {
        assert_eq!(
            function_arn("us-west-2", ACCT, "f"),
            "arn:aws:lambda:us-west-2:123456789012:function:f"
        );
        assert_eq!(
            qualified_function_arn("us-west-2", ACCT, "f", "$LATEST"),
            "arn:aws:lambda:us-west-2:123456789012:function:f:$LATEST"
        );
        assert_eq!(
            layer_arn("cn-north-1", ACCT, "l"),
            "arn:aws-cn:lambda:cn-north-1:123456789012:layer:l"
        );
        assert_eq!(
            layer_version_arn("us-gov-west-1", ACCT, "l", 3),
            "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:layer:l:3"
        );
        let parts = [
            ("us-east-1", "aws"),
            ("us-isob-east-1", "aws-iso-b"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isof-south-1", "aws-iso-f"),
            ("eu-isoe-west-1", "aws-iso-e"),
            ("eusc-de-east-1", "aws-eusc"),
            ("local", "aws"),
        ];
        for (r, p) in parts {
            assert_eq!(partition_for_region(r), p, "{r}");
        }
        // Round trip.
        let arn = qualified_function_arn(REGION, ACCT, "round", "live");
        assert_eq!(
            parse_function_ref(&arn, ACCT, REGION).unwrap(),
            fref("round", Some("live"))
        );
    }

    #[test]
    fn layer_names() {
        assert_eq!(parse_layer_name("my-layer").unwrap(), "my-layer");
        assert_eq!(
            parse_layer_name("arn:aws:lambda:us-west-2:123456789012:layer:my-layer").unwrap(),
            "my-layer"
        );
        let l = parse_layer_name_or_arn("arn:aws:lambda:eu-west-1:210987654321:layer:x").unwrap();
        assert_eq!(l.region.as_deref(), Some("eu-west-1"));
        assert_eq!(l.account.as_deref(), Some("210987654321"));
        for bad in [
            "",
            "my layer",
            "arn:aws:lambda:us-west-2:123456789012:layer:my-layer:1",
            "a:b",
            &"x".repeat(141),
        ] {
            let e = parse_layer_name(bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Validation, "{bad}");
            assert!(e.message.ends_with(LAYER_NAME_PATTERN), "{}", e.message);
        }
        assert_eq!(
            parse_layer_name("my layer").unwrap_err().message,
            format!("1 validation error detected: Value 'my layer' at 'layerName' failed to satisfy constraint: Member must satisfy regular expression pattern: {LAYER_NAME_PATTERN}")
        );
    }

    #[test]
    fn layer_version_arns() {
        let (r, a, n, v) =
            parse_layer_version_arn("arn:aws:lambda:us-west-2:123456789012:layer:my-layer:3")
                .unwrap();
        assert_eq!(
            (r.as_str(), a.as_str(), n.as_str(), v),
            ("us-west-2", ACCT, "my-layer", 3)
        );
        let e = parse_layer_version_arn("arn:aws:lambda:us-west-2:123456789012:layer:my-layer")
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Validation);
        assert_eq!(e.message, format!("1 validation error detected: Value 'arn:aws:lambda:us-west-2:123456789012:layer:my-layer' at 'arn' failed to satisfy constraint: Member must satisfy regular expression pattern: {LAYER_VERSION_ARN_PATTERN}"));
        let e = parse_layer_version_arn("arn:aws:lambda:::awslayer:AWSLambda-Python-AWS-SDK")
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidParameterValue);
        assert_eq!(
            e.message,
            "Layer version arn:aws:lambda:::awslayer:AWSLambda-Python-AWS-SDK does not exist."
        );
        let huge = "arn:aws:lambda:us-west-2:123456789012:layer:l:99999999999999999999999";
        assert_eq!(
            parse_layer_version_arn(huge).unwrap_err().kind,
            ErrorKind::InvalidParameterValue
        );
        for bad in [
            "",
            "arn:aws:lambda:us-west-2:123456789012:layer:l:",
            "arn:aws:lambda:us-west-2:123456789012:layer:l:1a",
            "arn:aws:lambda:us-west-2:12345678901:layer:l:1",
            "arn:aws:s3:us-west-2:123456789012:layer:l:1",
        ] {
            assert_eq!(
                parse_layer_version_arn(bad).unwrap_err().kind,
                ErrorKind::Validation,
                "{bad}"
            );
        }
        assert_eq!(
            layer_of_version_arn("arn:aws:lambda:us-west-2:123456789012:layer:l:12").as_deref(),
            Some("arn:aws:lambda:us-west-2:123456789012:layer:l")
        );
        assert_eq!(layer_of_version_arn("nope"), None);
    }

    #[test]
    fn taggable_arns() {
        let arn = "arn:aws:lambda:us-west-2:123456789012:function:f";
        assert_eq!(parse_taggable_function_arn(arn, ACCT, REGION).unwrap(), "f");
        let e = parse_taggable_function_arn(&format!("{arn}:prod"), ACCT, REGION).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidParameterValue);
        assert_eq!(e.message, "Tags on function aliases and versions are not supported. Please specify a function ARN.");
        for bad in [
            "f",
            "123456789012:function:f",
            "arn::lambda:us-west-2:123456789012:function:f",
            "arn:aws:lambda:us-west-2:123456789012:layer:l",
            "",
        ] {
            let e = parse_taggable_function_arn(bad, ACCT, REGION).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Validation, "{bad}");
            assert!(e.message.ends_with(TAGGABLE_RESOURCE_PATTERN));
        }
        assert_eq!(
            parse_taggable_function_arn("f", ACCT, REGION).unwrap_err().message,
            format!("1 validation error detected: Value 'f' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: {TAGGABLE_RESOURCE_PATTERN}")
        );
        let e = parse_taggable_function_arn(
            "arn:aws:lambda:eu-west-1:123456789012:function:f",
            ACCT,
            REGION,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::ResourceNotFound);
        let e = parse_taggable_function_arn(
            "arn:aws:lambda:us-west-2:111111111111:function:f",
            ACCT,
            REGION,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::AccessDenied);
        let esm = "arn:aws:lambda:us-west-2:123456789012:event-source-mapping:14e0db71-5d35-4eb5-b481-8945cf9d10c2";
        assert_eq!(
            parse_taggable_resource(esm).unwrap().kind,
            TaggableKind::EventSourceMapping("14e0db71-5d35-4eb5-b481-8945cf9d10c2".into())
        );
        assert_eq!(
            parse_taggable_function_arn(esm, ACCT, REGION)
                .unwrap_err()
                .kind,
            ErrorKind::ResourceNotFound
        );
        let csc = "arn:aws:lambda:us-west-2:123456789012:code-signing-config:csc-0123456789abcdefg";
        assert!(matches!(
            parse_taggable_resource(csc).unwrap().kind,
            TaggableKind::CodeSigningConfig(_)
        ));
        assert!(parse_taggable_resource(
            "arn:aws:lambda:us-west-2:123456789012:capacity-provider:cp-1"
        )
        .is_ok());
        assert!(parse_taggable_resource(
            "arn:aws:lambda:us-west-2:123456789012:network-connector:nc"
        )
        .is_ok());
    }

    #[test]
    fn odd_inputs_never_panic() {
        let huge = "a:".repeat(50_000);
        let inputs = [
            "",
            ":",
            "::",
            ":::::::::",
            "arn",
            "arn:",
            "arn:aws",
            "arn:aws:lambda",
            "arn:aws:lambda:",
            "ü",
            "🦀:🦀",
            "\u{0}",
            "é:é:é",
            "arn:aws:lambda:ü-east-1:123456789012:function:f",
            "arn:aws:lambda:us-west-2:١٢٣٤٥٦٧٨٩٠١٢:function:f",
            "eusc-",
            "us-iso",
            "\u{FEFF}f",
            "code-signing-config:csc-ü",
            &huge,
        ];
        for s in inputs {
            let _ = parse_function_ref(s, ACCT, REGION);
            let _ = parse_function_ref_as(s, ACCT, REGION, NameShape::Namespaced);
            let _ = parse_create_function_name(s, ACCT, REGION);
            let _ = parse_layer_name(s);
            let _ = parse_layer_version_arn(s);
            let _ = parse_taggable_function_arn(s, ACCT, REGION);
            let _ = parse_taggable_resource(&format!("arn:aws:lambda:us-west-2:123456789012:{s}"));
            let _ = merge_qualifier(fref(s, Some(s)), Some(s));
            let _ = is_region(s);
            let _ = partition_for_region(s);
        }
    }

    /// Cross-checks the quoted patterns and limits against botocore's model when it is on disk.
    #[test]
    fn patterns_match_service_model_when_available() {
        let Ok(text) = std::fs::read_to_string("/tmp/bc/lambda.json") else {
            return;
        };
        let model: serde_json::Value = serde_json::from_str(&text).unwrap();
        let shapes = &model["shapes"];
        let cases = [
            ("FunctionName", FUNCTION_NAME_PATTERN, Some(140)),
            (
                "NamespacedFunctionName",
                NAMESPACED_FUNCTION_NAME_PATTERN,
                Some(256),
            ),
            (
                "UnqualifiedFunctionName",
                UNQUALIFIED_FUNCTION_NAME_PATTERN,
                Some(140),
            ),
            ("LayerNameOrArn", LAYER_NAME_PATTERN, Some(2048)),
            ("LayerVersionArn", LAYER_VERSION_ARN_PATTERN, Some(2048)),
            ("TaggableResource", TAGGABLE_RESOURCE_PATTERN, Some(10000)),
        ];
        for (shape, pat, max) in cases {
            assert_eq!(shapes[shape]["pattern"].as_str(), Some(pat), "{shape}");
            assert_eq!(shapes[shape]["max"].as_u64(), max, "{shape}");
        }
    }
}
