//! Parsing of policy documents: Version, Id, Statement (one object or an array), Sid, Effect,
//! Action/NotAction, Resource/NotResource, Principal/NotPrincipal, Condition — with IAM's
//! `MalformedPolicyDocument` messages for what it rejects.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::condition::{self, Condition};
use super::PolicyError;

/// Where a document is used; decides which elements are required or prohibited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Attached to a user or role: no Principal, Resource required.
    Identity,
    /// A role's trust policy: Principal required, no Resource.
    Trust,
    /// Attached to a resource (a function's policy): Principal required.
    Resource,
}

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Grants.
    Allow,
    /// Denies, overriding every allow.
    Deny,
}

/// A list of patterns, or its negation (`NotAction`, `NotResource`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameSpec {
    /// Matches when any pattern matches.
    Any(Vec<String>),
    /// Matches when no pattern matches.
    Not(Vec<String>),
}

/// The `Principal` / `NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrincipalSpec {
    /// `NotPrincipal`.
    pub negated: bool,
    /// `"*"` (or `{"AWS": "*"}`): everyone.
    pub everyone: bool,
    /// `AWS`: account ids, account root ARNs, user/role/assumed-role ARNs.
    pub aws: Vec<String>,
    /// `Service`: service principals such as `s3.amazonaws.com`.
    pub service: Vec<String>,
    /// `Federated` and `CanonicalUser` values (kept, never matched by Ignis principals).
    pub other: Vec<String>,
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// `Sid`.
    pub sid: Option<String>,
    /// `Effect`.
    pub effect: Effect,
    /// `Action` / `NotAction`.
    pub action: NameSpec,
    /// `Resource` / `NotResource` (absent in trust policies: matches every resource).
    pub resource: Option<NameSpec>,
    /// `Principal` / `NotPrincipal` (absent in identity policies).
    pub principal: Option<PrincipalSpec>,
    /// All conditions (ANDed).
    pub conditions: Vec<Condition>,
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// `Version` (`2012-10-17` enables policy variables; absent means `2008-10-17`).
    pub version: String,
    /// `Id`.
    pub id: Option<String>,
    /// Statements.
    pub statements: Vec<Statement>,
}

fn malformed(msg: impl Into<String>) -> PolicyError {
    PolicyError::new(msg)
}

fn syntax() -> PolicyError {
    malformed("Syntax errors in policy.")
}

impl Policy {
    /// Parse a JSON document as a policy of `kind`.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<Self, PolicyError> {
        let value: Value = serde_json::from_str(text).map_err(|_| syntax())?;
        Self::from_value(&value, kind)
    }

    /// Parse an already-decoded JSON document.
    pub fn from_value(value: &Value, kind: PolicyKind) -> Result<Self, PolicyError> {
        let obj = value.as_object().ok_or_else(syntax)?;
        let mut version = "2008-10-17".to_string();
        let mut id = None;
        let mut statements_v = None;
        for (k, v) in obj {
            match k.as_str() {
                "Version" => {
                    let v = v.as_str().ok_or_else(syntax)?;
                    if v != "2012-10-17" && v != "2008-10-17" {
                        return Err(malformed("The policy must contain a valid version string"));
                    }
                    version = v.to_string();
                }
                "Id" => id = Some(v.as_str().ok_or_else(syntax)?.to_string()),
                "Statement" => statements_v = Some(v),
                _ => return Err(syntax()),
            }
        }
        let statements_v =
            statements_v.ok_or_else(|| malformed("Missing required field Statement"))?;
        let items: Vec<&Value> = match statements_v {
            Value::Array(a) => a.iter().collect(),
            Value::Object(_) => vec![statements_v],
            _ => return Err(syntax()),
        };
        let mut sids = HashSet::new();
        let mut statements = Vec::with_capacity(items.len());
        for item in items {
            let st = parse_statement(item.as_object().ok_or_else(syntax)?, kind)?;
            if let Some(sid) = &st.sid {
                if !sids.insert(sid.clone()) {
                    return Err(malformed(
                        "Statement IDs (SID) in a single policy must be unique.",
                    ));
                }
            }
            statements.push(st);
        }
        Ok(Self {
            version,
            id,
            statements,
        })
    }

    /// Whether policy variables are substituted (Version 2012-10-17).
    pub fn variables(&self) -> bool {
        self.version == "2012-10-17"
    }
}

/// A string or an array of strings.
fn strings(v: &Value) -> Result<Vec<String>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string).ok_or_else(syntax))
            .collect(),
        _ => Err(syntax()),
    }
}

fn parse_statement(obj: &Map<String, Value>, kind: PolicyKind) -> Result<Statement, PolicyError> {
    let mut sid = None;
    let mut effect = None;
    let mut action = None;
    let mut resource = None;
    let mut principal = None;
    let mut conditions = Vec::new();
    for (k, v) in obj {
        match k.as_str() {
            "Sid" => sid = Some(v.as_str().ok_or_else(syntax)?.to_string()),
            "Effect" => {
                effect = Some(match v.as_str() {
                    Some("Allow") => Effect::Allow,
                    Some("Deny") => Effect::Deny,
                    Some(other) => return Err(malformed(format!("Invalid effect: {other}"))),
                    None => return Err(syntax()),
                })
            }
            "Action" | "NotAction" => {
                if action.is_some() {
                    return Err(syntax());
                }
                let list = strings(v)?;
                for a in &list {
                    if a != "*"
                        && !a
                            .split_once(':')
                            .is_some_and(|(v, n)| !v.is_empty() && !n.is_empty())
                    {
                        return Err(malformed(
                            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
                        ));
                    }
                }
                action = Some(if k == "Action" {
                    NameSpec::Any(list)
                } else {
                    NameSpec::Not(list)
                });
            }
            "Resource" | "NotResource" => {
                if resource.is_some() {
                    return Err(syntax());
                }
                if kind == PolicyKind::Trust {
                    return Err(malformed(format!("Has prohibited field {k}")));
                }
                let list = strings(v)?;
                for r in &list {
                    if r != "*" && !(r.starts_with("arn:") && r.matches(':').count() >= 5) {
                        return Err(malformed(format!(
                            "Resource {r} must be in ARN format or \"*\"."
                        )));
                    }
                }
                resource = Some(if k == "Resource" {
                    NameSpec::Any(list)
                } else {
                    NameSpec::Not(list)
                });
            }
            "Principal" | "NotPrincipal" => {
                if principal.is_some() {
                    return Err(syntax());
                }
                if kind == PolicyKind::Identity {
                    return Err(malformed("Policy document should not specify a principal."));
                }
                let mut spec = parse_principal(v)?;
                spec.negated = k == "NotPrincipal";
                principal = Some(spec);
            }
            "Condition" => {
                let blocks = v.as_object().ok_or_else(syntax)?;
                for (op, body) in blocks {
                    conditions.extend(condition::parse_block(op, body)?);
                }
            }
            _ => return Err(syntax()),
        }
    }
    let effect = effect.ok_or_else(|| malformed("Missing required field Effect"))?;
    let action = action.ok_or_else(|| malformed("Policy statement must contain actions."))?;
    if kind != PolicyKind::Trust && resource.is_none() {
        return Err(malformed("Policy statement must contain resources."));
    }
    if kind != PolicyKind::Identity && principal.is_none() {
        return Err(malformed("Missing required field Principal"));
    }
    Ok(Statement {
        sid,
        effect,
        action,
        resource,
        principal,
        conditions,
    })
}

fn parse_principal(v: &Value) -> Result<PrincipalSpec, PolicyError> {
    let mut spec = PrincipalSpec::default();
    match v {
        Value::String(s) if s == "*" => spec.everyone = true,
        Value::Object(map) => {
            for (k, v) in map {
                let list = strings(v)?;
                match k.as_str() {
                    "AWS" => {
                        for p in list {
                            if p == "*" {
                                spec.everyone = true;
                            } else if is_account_id(&p) || p.starts_with("arn:") {
                                spec.aws.push(p);
                            } else {
                                return Err(malformed(
                                    "Invalid principal in policy: \"AWS\":\"".to_string()
                                        + &p
                                        + "\"",
                                ));
                            }
                        }
                    }
                    "Service" => spec.service.extend(list),
                    "Federated" | "CanonicalUser" => spec.other.extend(list),
                    _ => return Err(malformed("Invalid principal in policy")),
                }
            }
        }
        _ => return Err(malformed("Invalid principal in policy")),
    }
    Ok(spec)
}

/// Twelve digits.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}
