//! Evaluation of one request against identity-based policies and a resource-based policy, with
//! AWS's logic: an explicit deny anywhere wins; otherwise, in the resource's own account an
//! identity-based allow or a resource-based allow naming the principal suffices; across accounts
//! both the principal's identity policies and the resource policy must allow.

use super::document::{is_account_id, Effect, NameSpec, Policy, PrincipalSpec, Statement};
use super::{variables, wildcard};

/// Who makes the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An IAM user, an assumed-role session or an account root.
    Aws {
        /// `arn:aws:iam::A:user/u`, `arn:aws:sts::A:assumed-role/R/s` or `arn:aws:iam::A:root`.
        arn: String,
        /// The principal's account.
        account: String,
        /// For role sessions: the role's ARN (a policy naming the role matches its sessions).
        role_arn: Option<String>,
    },
    /// An AWS service (`s3.amazonaws.com`) acting for a resource (event sources).
    Service(String),
}

impl Principal {
    /// The principal's ARN (or service name).
    pub fn arn(&self) -> &str {
        match self {
            Self::Aws { arn, .. } => arn,
            Self::Service(s) => s,
        }
    }
}

/// The request: principal, action, resource and condition keys.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Who asks.
    pub principal: Principal,
    /// `service:Action`.
    pub action: String,
    /// The resource ARN (`*` for actions without a resource).
    pub resource: String,
    /// Condition keys, lowercased, with their values.
    keys: Vec<(String, Vec<String>)>,
}

impl RequestContext {
    /// A context with `aws:PrincipalArn` and `aws:PrincipalAccount` (or `aws:PrincipalServiceName`)
    /// filled in.
    pub fn new(
        principal: Principal,
        action: impl Into<String>,
        resource: impl Into<String>,
    ) -> Self {
        let mut ctx = Self {
            principal: principal.clone(),
            action: action.into(),
            resource: resource.into(),
            keys: Vec::new(),
        };
        match principal {
            Principal::Aws { arn, account, .. } => {
                ctx.set("aws:PrincipalArn", arn);
                ctx.set("aws:PrincipalAccount", account);
            }
            Principal::Service(s) => ctx.set("aws:PrincipalServiceName", s),
        }
        ctx
    }

    /// Set a single-valued key.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.set_values(key, vec![value.into()]);
    }

    /// Set a multi-valued key.
    pub fn set_values(&mut self, key: &str, values: Vec<String>) {
        let key = key.to_ascii_lowercase();
        match self.keys.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = values,
            None => self.keys.push((key, values)),
        }
    }

    /// Builder form of [`Self::set`].
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.set(key, value);
        self
    }

    /// The values of a key (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.keys
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_slice())
    }

    /// The value of a single-valued key.
    pub fn single(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some([v]) => Some(v),
            _ => None,
        }
    }
}

/// How a resource policy's Principal element matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrincipalMatch {
    /// Through the principal's account (account id or `:root` ARN).
    Account,
    /// By the principal's own ARN, its role's ARN, a service name, or `NotPrincipal`.
    Specific,
    /// `"*"`.
    Everyone,
}

/// Why a request is denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyReason {
    /// A Deny statement of an identity-based policy matched.
    ExplicitIdentity,
    /// A Deny statement of the resource-based policy matched.
    ExplicitResource,
    /// Nothing allows it (same account), or the principal's own policies do not (cross-account).
    NoIdentityAllow,
    /// Cross-account (or a service): the resource-based policy does not allow it.
    NoResourceAllow,
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed.
    Allow,
    /// Denied, explicitly or implicitly.
    Deny(DenyReason),
}

impl Decision {
    /// Is it [`Decision::Allow`]?
    pub fn allowed(self) -> bool {
        self == Self::Allow
    }
}

fn action_matches(spec: &NameSpec, action: &str) -> bool {
    let hit = |pats: &[String]| {
        pats.iter()
            .any(|p| wildcard::wildcard_match(p, action, true))
    };
    match spec {
        NameSpec::Any(p) => hit(p),
        NameSpec::Not(p) => !hit(p),
    }
}

fn resource_matches(spec: Option<&NameSpec>, ctx: &RequestContext, vars: bool) -> bool {
    let hit = |pats: &[String]| {
        pats.iter().any(|p| {
            p == "*"
                || variables::compile(p, ctx, vars, true)
                    .is_some_and(|pat| wildcard::matches(&pat, &ctx.resource, false))
        })
    };
    match spec {
        None => true,
        Some(NameSpec::Any(p)) => hit(p),
        Some(NameSpec::Not(p)) => !hit(p),
    }
}

/// How (if at all) `spec` names `principal`.
fn principal_match(spec: &PrincipalSpec, principal: &Principal) -> Option<PrincipalMatch> {
    let named = if spec.everyone {
        Some(PrincipalMatch::Everyone)
    } else {
        match principal {
            Principal::Service(s) => spec
                .service
                .iter()
                .any(|v| v.eq_ignore_ascii_case(s))
                .then_some(PrincipalMatch::Specific),
            Principal::Aws {
                arn,
                account,
                role_arn,
            } => {
                let mut best = None;
                for v in &spec.aws {
                    if v == arn || role_arn.as_deref() == Some(v.as_str()) {
                        let m = if arn.ends_with(":root") {
                            PrincipalMatch::Account
                        } else {
                            PrincipalMatch::Specific
                        };
                        best = best.max(Some(m));
                    } else if (is_account_id(v) && v == account)
                        || *v == format!("arn:aws:iam::{account}:root")
                    {
                        best = best.max(Some(PrincipalMatch::Account));
                    }
                }
                best
            }
        }
    };
    if spec.negated {
        match named {
            Some(_) => None,
            None => Some(PrincipalMatch::Specific),
        }
    } else {
        named
    }
}

/// Does `st` apply to the request? For statements with a Principal element, how it matched.
fn applies(st: &Statement, ctx: &RequestContext, vars: bool) -> Option<PrincipalMatch> {
    let m = match &st.principal {
        Some(spec) => principal_match(spec, &ctx.principal)?,
        None => PrincipalMatch::Specific,
    };
    (action_matches(&st.action, &ctx.action)
        && resource_matches(st.resource.as_ref(), ctx, vars)
        && st.conditions.iter().all(|c| c.holds(ctx, vars)))
    .then_some(m)
}

/// Evaluate a request against the caller's identity-based policies and the resource's policy
/// (which lives in `resource_account`).
pub fn evaluate(
    ctx: &RequestContext,
    identity: &[&Policy],
    resource_policy: Option<&Policy>,
    resource_account: &str,
) -> Decision {
    let mut identity_allow = false;
    for policy in identity {
        for st in &policy.statements {
            if applies(st, ctx, policy.variables()).is_some() {
                match st.effect {
                    Effect::Deny => return Decision::Deny(DenyReason::ExplicitIdentity),
                    Effect::Allow => identity_allow = true,
                }
            }
        }
    }
    let mut resource_allow: Option<PrincipalMatch> = None;
    if let Some(policy) = resource_policy {
        for st in &policy.statements {
            if let Some(m) = applies(st, ctx, policy.variables()) {
                match st.effect {
                    Effect::Deny => return Decision::Deny(DenyReason::ExplicitResource),
                    Effect::Allow => resource_allow = resource_allow.max(Some(m)),
                }
            }
        }
    }
    match &ctx.principal {
        Principal::Service(_) => match resource_allow {
            Some(_) => Decision::Allow,
            None => Decision::Deny(DenyReason::NoResourceAllow),
        },
        Principal::Aws { account, .. } if account == resource_account => {
            if identity_allow || resource_allow > Some(PrincipalMatch::Account) {
                Decision::Allow
            } else {
                Decision::Deny(DenyReason::NoIdentityAllow)
            }
        }
        Principal::Aws { .. } => match (identity_allow, resource_allow) {
            (true, Some(_)) => Decision::Allow,
            (true, None) => Decision::Deny(DenyReason::NoResourceAllow),
            (false, _) => Decision::Deny(DenyReason::NoIdentityAllow),
        },
    }
}

/// How the best Allow statement of a resource-based policy names the request's principal (`None`
/// when no Allow statement applies). Role trust policies must allow AssumeRole in every case,
/// which [`evaluate`] alone does not express for same-account callers with an identity allow.
pub fn resource_policy_allows(ctx: &RequestContext, policy: &Policy) -> Option<PrincipalMatch> {
    policy
        .statements
        .iter()
        .filter(|st| st.effect == Effect::Allow)
        .filter_map(|st| applies(st, ctx, policy.variables()))
        .max()
}

/// AWS's AccessDenied message: `User: <arn> is not authorized to perform: <action> on resource:
/// <resource> because no identity-based policy allows the <action> action` (and its variants).
pub fn access_denied_message(
    principal_arn: &str,
    action: &str,
    resource: &str,
    reason: DenyReason,
) -> String {
    let why = match reason {
        DenyReason::ExplicitIdentity => {
            "with an explicit deny in an identity-based policy".to_string()
        }
        DenyReason::ExplicitResource => {
            "with an explicit deny in a resource-based policy".to_string()
        }
        DenyReason::NoIdentityAllow => {
            format!("because no identity-based policy allows the {action} action")
        }
        DenyReason::NoResourceAllow => {
            format!("because no resource-based policy allows the {action} action")
        }
    };
    format!("User: {principal_arn} is not authorized to perform: {action} on resource: {resource} {why}")
}
