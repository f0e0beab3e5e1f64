//! `${VAR}` expansion of config strings.
//!
//! Secrets (webhook tokens, feed API keys) must not live in a config file that gets committed,
//! so any string value may say `${NAME}` and get the environment variable's value instead.
//! `$${` writes a literal `${`; any other `$` is left alone. Expanded text is not scanned
//! again, so a value containing `${` cannot pull in another variable. Values are never put
//! into error messages: only the variable's name is.

/// Why a string could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExpandError {
    /// `${NAME}` with `NAME` not set.
    Unset(String),
    /// `${` with no closing `}`.
    Unclosed,
    /// `${...}` whose content is not a variable name.
    BadName(String),
}

impl ExpandError {
    /// A message that names the variable but never a value.
    pub fn message(&self) -> String {
        match self {
            ExpandError::Unset(name) => {
                format!("environment variable {name} is not set (referenced as ${{{name}}})")
            }
            ExpandError::Unclosed => {
                "`${` without a closing `}` (write `$${` for a literal `${`)".to_string()
            }
            ExpandError::BadName(name) => format!(
                "`${{{name}}}` is not a valid variable reference (names are letters, digits and \
                 `_`, not starting with a digit; write `$${{` for a literal `${{`)"
            ),
        }
    }
}

/// True for `[A-Za-z_][A-Za-z0-9_]*`, the portable shell variable names.
fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Expands `${VAR}` in `input` using `lookup`; `$${` becomes `${`.
pub(crate) fn expand(
    input: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ExpandError> {
    if !input.contains('$') {
        return Ok(input.to_string());
    }
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let end = after.find('}').ok_or(ExpandError::Unclosed)?;
            let name = &after[..end];
            if !is_var_name(name) {
                return Err(ExpandError::BadName(name.to_string()));
            }
            let value = lookup(name).ok_or_else(|| ExpandError::Unset(name.to_string()))?;
            out.push_str(&value);
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("s3cret".into()),
            "EMPTY" => Some(String::new()),
            "NESTED" => Some("${TOKEN}".into()),
            _ => None,
        }
    }

    #[test]
    fn replaces_variables_and_keeps_other_text() {
        // The basic contract: `${VAR}` anywhere in a string, several times.
        assert_eq!(
            expand("Bearer ${TOKEN}/${TOKEN}!", &env).unwrap(),
            "Bearer s3cret/s3cret!"
        );
        assert_eq!(expand("a${EMPTY}b", &env).unwrap(), "ab");
        assert_eq!(expand("plain", &env).unwrap(), "plain");
    }

    #[test]
    fn escapes_and_lone_dollars_are_literal() {
        // `$${` must give a literal `${`, and prices like "$5" must pass through untouched.
        assert_eq!(expand("$${TOKEN}", &env).unwrap(), "${TOKEN}");
        assert_eq!(expand("costs $5 $", &env).unwrap(), "costs $5 $");
        assert_eq!(expand("$$x", &env).unwrap(), "$$x");
    }

    #[test]
    fn values_are_not_expanded_again() {
        // A value that itself contains `${` must not pull in a second variable.
        assert_eq!(expand("${NESTED}", &env).unwrap(), "${TOKEN}");
    }

    #[test]
    fn errors_name_the_variable_not_a_value() {
        // Unset variables are errors (not empty strings), and messages never leak values.
        assert_eq!(
            expand("x ${MISSING} y", &env),
            Err(ExpandError::Unset("MISSING".into()))
        );
        assert_eq!(expand("${TOKEN", &env), Err(ExpandError::Unclosed));
        assert_eq!(
            expand("${1X}", &env),
            Err(ExpandError::BadName("1X".into()))
        );
        assert_eq!(
            expand("${}", &env),
            Err(ExpandError::BadName(String::new()))
        );
        let msg = ExpandError::Unset("TOKEN".into()).message();
        assert!(msg.contains("TOKEN") && !msg.contains("s3cret"));
    }
}
