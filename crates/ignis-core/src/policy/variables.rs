//! Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'none'}`, `${*}`, `${?}`, `${$}`)
//! in Resource elements and in String/ARN condition values of `2012-10-17` policies.

use super::eval::RequestContext;
use super::wildcard::Tok;

/// Compile `pattern` into tokens, substituting policy variables from `ctx` when `vars` is set.
/// `wildcards` makes `*`/`?` wildcards (Like operators, Resource, Action); otherwise they are
/// literal. A variable whose key is absent (and has no default) makes the element match nothing:
/// `None`.
pub(crate) fn compile(
    pattern: &str,
    ctx: &RequestContext,
    vars: bool,
    wildcards: bool,
) -> Option<Vec<Tok>> {
    let mut out = Vec::with_capacity(pattern.len());
    let mut rest = pattern;
    while !rest.is_empty() {
        if vars && rest.starts_with("${") {
            if let Some(end) = rest.find('}') {
                let inner = &rest[2..end];
                rest = &rest[end + 1..];
                match inner {
                    "*" => out.push(Tok::Lit('*')),
                    "?" => out.push(Tok::Lit('?')),
                    "$" => out.push(Tok::Lit('$')),
                    _ => {
                        let (key, default) = match inner.split_once(',') {
                            Some((k, d)) => (k.trim(), parse_default(d)),
                            None => (inner.trim(), None),
                        };
                        let value = match ctx.single(key) {
                            Some(v) => v,
                            None => default?,
                        };
                        out.extend(value.chars().map(Tok::Lit));
                    }
                }
                continue;
            }
        }
        let mut chars = rest.chars();
        let Some(c) = chars.next() else { break };
        rest = chars.as_str();
        out.push(match c {
            '*' if wildcards => Tok::Star,
            '?' if wildcards => Tok::One,
            c => Tok::Lit(c),
        });
    }
    Some(out)
}

/// The default of `${key, 'default'}`: a single-quoted string.
fn parse_default(s: &str) -> Option<&str> {
    let s = s.trim();
    s.strip_prefix('\'')?.strip_suffix('\'')
}
