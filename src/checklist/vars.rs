//! Variable substitution in checklist strings: `${name}`, `${secret.name}` and the `$${`
//! escape.
//!
//! `${name}` is looked up in `--var` overrides, then the chosen environment's table, then
//! `[vars]`, then the process environment. `${secret.name}` is looked up among the secrets
//! read for the chosen environment.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The source a secret's value is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// A process environment variable, by name.
    Env(String),
    /// A file whose content, without trailing newlines, is the value; `~` is the home folder.
    File(String),
}

/// A secret after reading its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretValue {
    Available(String),
    /// The source could not be read; the text gives the reason and what to set, for example
    /// "secret `admin_token`: environment variable ADMIN_TOKEN is not set".
    Missing(String),
}

/// Reads a process environment variable; the loader passes `std::env::var`, tests pass a map.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads the secret `name` from its source.
pub fn read_secret(name: &str, source: &SecretSource, env: EnvLookup<'_>) -> SecretValue {
    match source {
        SecretSource::Env(variable) => match env(variable) {
            Some(value) if !value.is_empty() => SecretValue::Available(value),
            Some(_) => SecretValue::Missing(format!(
                "secret `{name}`: environment variable {variable} is set but empty"
            )),
            None => SecretValue::Missing(format!(
                "secret `{name}`: environment variable {variable} is not set"
            )),
        },
        SecretSource::File(path) => {
            let expanded = expand_home(path);
            match std::fs::read_to_string(&expanded) {
                Ok(text) => {
                    let value = text.trim_end_matches(['\n', '\r']);
                    if value.is_empty() {
                        SecretValue::Missing(format!(
                            "secret `{name}`: file {} is empty",
                            expanded.display()
                        ))
                    } else {
                        SecretValue::Available(value.to_string())
                    }
                }
                Err(err) => SecretValue::Missing(format!(
                    "secret `{name}`: cannot read file {}: {err}",
                    expanded.display()
                )),
            }
        }
    }
}

/// Replaces a leading `~` or `~/` with the home folder.
pub fn expand_home(path: &str) -> PathBuf {
    let rest = if path == "~" {
        Some("")
    } else {
        path.strip_prefix("~/")
    };
    match (rest, dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

/// Every variable source of one environment, in lookup order.
pub struct Scope<'a> {
    /// `--var KEY=VALUE` values, which win over every other source.
    pub overrides: &'a BTreeMap<String, String>,
    /// The chosen environment's name, for messages.
    pub environment: String,
    /// Variables of the chosen environment's table.
    pub environment_vars: BTreeMap<String, String>,
    /// Variables of `[vars]`.
    pub shared_vars: BTreeMap<String, String>,
    pub process_env: EnvLookup<'a>,
    /// Secrets declared in `[secrets]`, read for the chosen environment.
    pub secrets: BTreeMap<String, SecretValue>,
}

/// A problem with one `${...}` reference. `offset` is the byte offset of its `$` in the string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarError {
    /// `${` without a closing `}`.
    Unclosed { offset: usize },
    /// `${}` or a name with characters other than letters, digits, `_`, `-` and `.`.
    InvalidName { offset: usize, name: String },
    /// A variable no source defines.
    Undefined { offset: usize, name: String },
    /// `${secret.name}` for a secret not declared in `[secrets]`.
    UndefinedSecret { offset: usize, name: String },
}

impl VarError {
    pub fn offset(&self) -> usize {
        match self {
            VarError::Unclosed { offset }
            | VarError::InvalidName { offset, .. }
            | VarError::Undefined { offset, .. }
            | VarError::UndefinedSecret { offset, .. } => *offset,
        }
    }
}

/// A string after substitution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expanded {
    pub text: String,
    /// Reasons of the secrets that were referenced but could not be read; each was replaced
    /// by an empty string.
    pub missing_secrets: Vec<String>,
    /// Values of the secrets that were substituted.
    pub secrets_used: Vec<String>,
}

/// Variable names may contain these characters besides letters and digits.
fn is_name_char(ch: char) -> bool {
    ch.is_alphanumeric() || matches!(ch, '_' | '-' | '.')
}

impl Scope<'_> {
    /// Looks a plain variable up in lookup order.
    pub fn variable(&self, name: &str) -> Option<String> {
        self.overrides
            .get(name)
            .or_else(|| self.environment_vars.get(name))
            .or_else(|| self.shared_vars.get(name))
            .cloned()
            .or_else(|| (self.process_env)(name))
    }

    /// Names of every variable the checklist or the overrides define, for suggestions.
    pub fn known_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .overrides
            .keys()
            .chain(self.environment_vars.keys())
            .chain(self.shared_vars.keys())
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Substitutes every `${...}` in `text`, reporting every bad reference.
    pub fn expand(&self, text: &str) -> Result<Expanded, Vec<VarError>> {
        let mut expanded = Expanded::default();
        let mut errors = Vec::new();
        let mut rest = text;
        let mut consumed = 0;
        while let Some(found) = rest.find('$') {
            expanded.text.push_str(&rest[..found]);
            let after = &rest[found..];
            let offset = consumed + found;
            if let Some(escaped) = after.strip_prefix("$${") {
                expanded.text.push_str("${");
                rest = escaped;
                consumed = offset + 3;
                continue;
            }
            if !after.starts_with("${") {
                expanded.text.push('$');
                rest = &after[1..];
                consumed = offset + 1;
                continue;
            }
            let Some(close) = after.find('}') else {
                errors.push(VarError::Unclosed { offset });
                break;
            };
            let name = &after[2..close];
            self.substitute(name, offset, &mut expanded, &mut errors);
            rest = &after[close + 1..];
            consumed = offset + close + 1;
        }
        expanded.text.push_str(rest);
        if errors.is_empty() {
            Ok(expanded)
        } else {
            Err(errors)
        }
    }

    fn substitute(
        &self,
        name: &str,
        offset: usize,
        expanded: &mut Expanded,
        errors: &mut Vec<VarError>,
    ) {
        if name.is_empty() || !name.chars().all(is_name_char) {
            errors.push(VarError::InvalidName {
                offset,
                name: name.to_string(),
            });
            return;
        }
        if let Some(secret) = name.strip_prefix("secret.") {
            match self.secrets.get(secret) {
                Some(SecretValue::Available(value)) => {
                    expanded.text.push_str(value);
                    expanded.secrets_used.push(value.clone());
                }
                Some(SecretValue::Missing(reason)) => {
                    if !expanded.missing_secrets.contains(reason) {
                        expanded.missing_secrets.push(reason.clone());
                    }
                }
                None => errors.push(VarError::UndefinedSecret {
                    offset,
                    name: secret.to_string(),
                }),
            }
            return;
        }
        match self.variable(name) {
            Some(value) => expanded.text.push_str(&value),
            None => errors.push(VarError::Undefined {
                offset,
                name: name.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn scope(overrides: &BTreeMap<String, String>) -> Scope<'_> {
        let mut secrets = BTreeMap::new();
        secrets.insert("token".to_string(), SecretValue::Available("s3cr3t".into()));
        secrets.insert(
            "gone".to_string(),
            SecretValue::Missing("secret `gone`: unset".into()),
        );
        Scope {
            overrides,
            environment: "staging".into(),
            environment_vars: BTreeMap::from([("host".into(), "env-host".into())]),
            shared_vars: BTreeMap::from([
                ("host".into(), "shared-host".into()),
                ("api".into(), "/v1".into()),
            ]),
            process_env: &no_env,
            secrets,
        }
    }

    #[test]
    fn expand_prefers_environment_then_shared() {
        let overrides = BTreeMap::new();
        let out = scope(&overrides).expand("http://${host}${api}").unwrap();
        assert_eq!(out.text, "http://env-host/v1");
    }

    #[test]
    fn expand_overrides_win() {
        let overrides = BTreeMap::from([("host".to_string(), "127.0.0.1".to_string())]);
        let out = scope(&overrides).expand("${host}").unwrap();
        assert_eq!(out.text, "127.0.0.1");
    }

    #[test]
    fn expand_escape_and_lone_dollar() {
        let overrides = BTreeMap::new();
        let out = scope(&overrides).expand("$${host} costs $5").unwrap();
        assert_eq!(out.text, "${host} costs $5");
    }

    #[test]
    fn expand_secrets_available_and_missing() {
        let overrides = BTreeMap::new();
        let out = scope(&overrides)
            .expand("a ${secret.token} b ${secret.gone}")
            .unwrap();
        assert_eq!(out.text, "a s3cr3t b ");
        assert_eq!(out.secrets_used, vec!["s3cr3t".to_string()]);
        assert_eq!(
            out.missing_secrets,
            vec!["secret `gone`: unset".to_string()]
        );
    }

    #[test]
    fn expand_reports_every_error() {
        let overrides = BTreeMap::new();
        let errors = scope(&overrides)
            .expand("${nope} ${secret.nope} ${} ${open")
            .unwrap_err();
        assert_eq!(errors.len(), 4);
        assert_eq!(
            errors[0],
            VarError::Undefined {
                offset: 0,
                name: "nope".into()
            }
        );
        assert_eq!(
            errors[1],
            VarError::UndefinedSecret {
                offset: 8,
                name: "nope".into()
            }
        );
        assert_eq!(
            errors[2],
            VarError::InvalidName {
                offset: 23,
                name: String::new()
            }
        );
        assert_eq!(errors[3], VarError::Unclosed { offset: 27 });
    }
}
