//! CloudWatch Logs filter patterns for unstructured events: plain terms (all must appear),
//! quoted phrases (`"two words"`), optional terms (`?ERROR ?WARN`: any may appear) and excluded
//! terms (`-DEBUG`). Matching is case-sensitive, as in CloudWatch Logs. JSON (`{ ... }`) and
//! space-delimited (`[ ... ]`) patterns are not supported and are rejected.

/// A parsed filter pattern.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pattern {
    all: Vec<String>,
    any: Vec<String>,
    none: Vec<String>,
}

/// Why a pattern was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid filter pattern: {0}")]
pub struct PatternError(pub String);

impl Pattern {
    /// Parse a pattern; an empty pattern matches every event.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let trimmed = text.trim();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            return Err(PatternError(
                "JSON and space-delimited patterns are not supported".into(),
            ));
        }
        let mut p = Pattern::default();
        let mut chars = trimmed.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let Some(&first) = chars.peek() else { break };
            let list = match first {
                '?' => {
                    chars.next();
                    &mut p.any
                }
                '-' => {
                    chars.next();
                    &mut p.none
                }
                _ => &mut p.all,
            };
            let mut term = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                term.push(n);
                            }
                        }
                        '"' => {
                            closed = true;
                            break;
                        }
                        c => term.push(c),
                    }
                }
                if !closed {
                    return Err(PatternError("unterminated quoted phrase".into()));
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    term.push(c);
                    chars.next();
                }
            }
            if !term.is_empty() {
                list.push(term);
            }
        }
        Ok(p)
    }

    /// Whether the pattern matches everything.
    pub fn is_empty(&self) -> bool {
        self.all.is_empty() && self.any.is_empty() && self.none.is_empty()
    }

    /// Whether `message` matches.
    pub fn matches(&self, message: &str) -> bool {
        self.all.iter().all(|t| message.contains(t.as_str()))
            && !self.none.iter().any(|t| message.contains(t.as_str()))
            && (self.any.is_empty() || self.any.iter().any(|t| message.contains(t.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_phrases_optional_and_excluded() {
        let p = Pattern::parse("ERROR \"disk full\"").unwrap();
        assert!(p.matches("ERROR: disk full on /tmp"));
        assert!(!p.matches("ERROR: disk is full"));
        assert!(!p.matches("error: disk full"));
        let p = Pattern::parse("?ERROR ?WARN").unwrap();
        assert!(p.matches("WARN low memory") && p.matches("ERROR x") && !p.matches("INFO"));
        let p = Pattern::parse("RequestId -START").unwrap();
        assert!(p.matches("END RequestId: 1") && !p.matches("START RequestId: 1"));
        assert!(Pattern::parse("").unwrap().is_empty());
        assert!(Pattern::parse("   ").unwrap().matches("anything"));
        assert!(Pattern::parse("\"open").is_err());
        assert!(Pattern::parse("{ $.level = \"ERROR\" }").is_err());
        let p = Pattern::parse(r#""say \"hi\"""#).unwrap();
        assert!(p.matches(r#"they say "hi" here"#));
    }
}
