//! The IAM policy language and its evaluator: parsing policy documents ([`Policy::parse`]),
//! wildcard matching, condition operators, policy variables, and AWS's evaluation logic for one
//! request ([`evaluate`]): explicit deny beats allow, allow beats the implicit deny; within one
//! account an identity-based or a resource-based allow suffices, across accounts both are needed.
//!
//! Pure: no IO. Callers parse documents once (on write or on first use) and evaluate many times.

mod condition;
mod document;
mod eval;
mod variables;
mod wildcard;

#[cfg(test)]
mod tests;

pub use condition::{Condition, Operator, SetQualifier};
pub use document::{Effect, NameSpec, Policy, PolicyKind, PrincipalSpec, Statement};
pub use eval::{
    access_denied_message, evaluate, resource_policy_allows, Decision, DenyReason, Principal,
    PrincipalMatch, RequestContext,
};
pub use wildcard::wildcard_match;

/// A policy document that cannot be accepted; the message is IAM's `MalformedPolicyDocument` text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

impl PolicyError {
    pub(crate) fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}
