//! Loading a checklist file into a [`Checklist`] resolved for one environment.
//!
//! The loader walks the spanned TOML tree and collects every problem it finds as a
//! [`Diagnostic`] with the line and column of the offending key or value, so that one run of
//! `golive lint` lists them all. The format is described in the README.

mod policy;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io::Read as _;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest as _, Sha256};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diagnostic::{Diagnostic, DiagnosticSeverity, closest, render_diagnostics};
use super::vars::{self, EnvLookup, Scope, SecretSource, SecretValue, VarError};
use super::{
    CheckDef, Checklist, Item, ItemBody, LaunchPolicy, ManualRequest, ManualSteps, Phase,
    SecretRef, Severity,
};

use crate::checks::{self, CheckSpec, SpecError};
use crate::redact::Redactor;
use crate::sanitize::terminal_safe;
pub use policy::WAIVERS_FILE_SUFFIX;

/// Largest checklist file the loader reads, in bytes.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;

/// Shortest `interval` accepted, because a live check re-run more often than once a second
/// keeps a CPU core busy and floods its target.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// Longest `timeout` of one check attempt accepted.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// Largest `retries` accepted, so that a check against a dead target ends in bounded time.
pub const MAX_RETRIES: u32 = 10;

/// Settings from `config.toml` that apply when the checklist sets none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadDefaults {
    /// Timeout of one check attempt when neither the check nor `[defaults]` sets one.
    pub timeout: Duration,
}

impl Default for LoadDefaults {
    fn default() -> Self {
        LoadDefaults {
            timeout: Duration::from_secs(10),
        }
    }
}

/// A checklist that loaded, with the warnings found on the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub checklist: Checklist,
    pub warnings: Vec<Diagnostic>,
    /// The file's text, for showing the lines the warnings point at.
    pub source_text: String,
    /// Sign-offs and waivers of the checklist and its waivers file.
    pub policy: LaunchPolicy,
}

/// A checklist that did not load: every problem found, errors and warnings, in file order.
#[derive(Debug, Clone, thiserror::Error)]
pub struct LoadFailure {
    pub diagnostics: Vec<Diagnostic>,
    /// The file's text, for showing the offending lines; empty when it could not be read.
    pub source_text: String,
}

impl fmt::Display for LoadFailure {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&render_diagnostics(&self.diagnostics, &self.source_text))
    }
}

impl LoadFailure {
    /// Returns the diagnostics that are errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.is_error())
    }

    fn whole_file(path: &Path, message: String, help: Option<String>) -> Self {
        LoadFailure {
            diagnostics: vec![Diagnostic {
                severity: DiagnosticSeverity::Error,
                path: path.to_path_buf(),
                line: 1,
                column: 1,
                width: 1,
                message,
                help,
            }],
            source_text: String::new(),
        }
    }
}

/// Reads and loads the checklist at `path` for `environment` (see [`load_str`]).
pub fn load(
    path: &Path,
    environment: Option<&str>,
    overrides: &BTreeMap<String, String>,
    defaults: &LoadDefaults,
) -> Result<Loaded, LoadFailure> {
    let bytes = read_capped(path)?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(err.as_bytes()).into_owned();
            let prefix = String::from_utf8_lossy(&err.as_bytes()[..valid]);
            let (line, column) = crate::config::line_column(&prefix, prefix.len());
            let mut failure = LoadFailure::whole_file(
                path,
                "invalid UTF-8 in checklist file".into(),
                Some("save the file as UTF-8 text".into()),
            );
            failure.diagnostics[0].line = line;
            failure.diagnostics[0].column = column;
            failure.source_text = lossy;
            return Err(failure);
        }
    };
    load_str(path, &text, environment, overrides, defaults)
}

fn read_capped(path: &Path) -> Result<Vec<u8>, LoadFailure> {
    let read_error = |err: std::io::Error| {
        LoadFailure::whole_file(path, format!("cannot read checklist file: {err}"), None)
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    // Reading one byte past the cap distinguishes a file at the cap from a larger one.
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(too_large(path));
    }
    Ok(bytes)
}

fn too_large(path: &Path) -> LoadFailure {
    LoadFailure::whole_file(
        path,
        format!(
            "checklist file is larger than {} MiB",
            MAX_FILE_BYTES / (1024 * 1024)
        ),
        Some("split the checklist into smaller files".into()),
    )
}

/// Loads a checklist from text; `name_for_messages` is the path shown in diagnostics and
/// stored in [`Checklist::path`]. Variables not defined by the checklist or `overrides` are
/// read from the process environment. The waivers file is read beside `name_for_messages`:
/// see [`load_policy`].
pub fn load_str(
    name_for_messages: &Path,
    text: &str,
    environment: Option<&str>,
    overrides: &BTreeMap<String, String>,
    defaults: &LoadDefaults,
) -> Result<Loaded, LoadFailure> {
    let process_env = |name: &str| std::env::var(name).ok();
    load_str_with_env(
        name_for_messages,
        text,
        environment,
        overrides,
        defaults,
        &process_env,
    )
}

/// Same as [`load_str`], with the process environment replaced by `env`.
pub fn load_str_with_env(
    name_for_messages: &Path,
    text: &str,
    environment: Option<&str>,
    overrides: &BTreeMap<String, String>,
    defaults: &LoadDefaults,
    env: EnvLookup<'_>,
) -> Result<Loaded, LoadFailure> {
    if text.len() > MAX_FILE_BYTES {
        return Err(too_large(name_for_messages));
    }
    let digest = hex::encode(Sha256::digest(text.as_bytes()));
    let mut cx = Cx {
        path: name_for_messages,
        text,
        diagnostics: Vec::new(),
    };
    let (document, parse_errors) = DeTable::parse_recoverable(text);
    // Recovery after a syntax error reports follow-on errors that mislead, so only the
    // first one in the file is shown.
    if let Some(first) = parse_errors
        .iter()
        .min_by_key(|err| err.span().map(|span| span.start))
    {
        let span = first.span().unwrap_or(0..0);
        cx.error(span, format!("invalid TOML: {}", first.message()), None);
        return Err(cx.failure(None));
    }
    let mut request = Request {
        environment,
        overrides,
        defaults,
        env,
    };
    let root = document.get_ref();
    let checklist = build(&mut cx, root, &mut request, digest);
    let mut policy = policy::read_policy(&mut cx, root, &checklist);
    let waivers_file = policy::waivers_file(&mut cx, root, name_for_messages);
    let mut loaded = cx.finish(checklist)?;
    if let Some(file) = waivers_file {
        policy::read_waivers_file(&file, &loaded.checklist, &mut policy)?;
    }
    policy::attach_finding_waivers(&mut loaded.checklist, &policy);
    loaded.policy = policy;
    Ok(loaded)
}

/// Reads the sign-offs and waivers of a loaded checklist again from its file and its waivers
/// file, for front ends that receive only the [`Checklist`].
///
/// The waivers file is `waivers_file` of `[checklist]`, relative to the checklist's folder, or
/// else `<stem>.waivers.toml` beside the checklist when that file exists.
///
/// # Errors
///
/// A [`LoadFailure`] when a file cannot be read, when the checklist file no longer has the
/// digest it was loaded with, or when a sign-off or waiver is invalid.
pub fn load_policy(checklist: &Checklist) -> Result<LaunchPolicy, LoadFailure> {
    let path = checklist.path.as_path();
    let bytes = read_capped(path)?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let digest = hex::encode(Sha256::digest(&bytes));
    if digest != checklist.digest {
        return Err(LoadFailure::whole_file(
            path,
            "checklist file changed after it was loaded".into(),
            Some("restart golive so that it loads the file as it is now".into()),
        ));
    }
    let mut cx = Cx {
        path,
        text: &text,
        diagnostics: Vec::new(),
    };
    let (document, _) = DeTable::parse_recoverable(&text);
    let root = document.get_ref();
    let mut policy = policy::read_policy(&mut cx, root, checklist);
    let waivers_file = policy::waivers_file(&mut cx, root, path);
    if cx.has_errors() {
        return Err(cx.failure(Some(&checklist.redactor)));
    }
    if let Some(file) = waivers_file {
        policy::read_waivers_file(&file, checklist, &mut policy)?;
    }
    Ok(policy)
}

/// The caller's request besides the text: environment, overrides, defaults, process env.
struct Request<'a> {
    environment: Option<&'a str>,
    overrides: &'a BTreeMap<String, String>,
    defaults: &'a LoadDefaults,
    env: EnvLookup<'a>,
}

type Value<'i> = Spanned<DeValue<'i>>;

/// Collects diagnostics while walking the tree.
struct Cx<'a> {
    path: &'a Path,
    text: &'a str,
    diagnostics: Vec<Diagnostic>,
}

impl Cx<'_> {
    fn push(
        &mut self,
        severity: DiagnosticSeverity,
        span: Range<usize>,
        message: String,
        help: Option<String>,
    ) {
        let (line, column) = crate::config::line_column(self.text, span.start);
        let start = self
            .text
            .floor_char_boundary(span.start.min(self.text.len()));
        let end = self
            .text
            .floor_char_boundary(span.end.min(self.text.len()))
            .max(start);
        let first_line = self.text[start..end].split('\n').next().unwrap_or("");
        let width = first_line.trim_end_matches('\r').chars().count().max(1);
        self.diagnostics.push(Diagnostic {
            severity,
            path: self.path.to_path_buf(),
            line,
            column,
            width,
            message,
            help,
        });
    }

    fn error(&mut self, span: Range<usize>, message: String, help: Option<String>) {
        self.push(DiagnosticSeverity::Error, span, message, help);
    }

    fn warning(&mut self, span: Range<usize>, message: String, help: Option<String>) {
        self.push(DiagnosticSeverity::Warning, span, message, help);
    }

    fn line_of(&self, offset: usize) -> usize {
        crate::config::line_column(self.text, offset).0
    }

    fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Returns the offending value as written in the file, cut to one short line.
    fn quote(&self, span: Range<usize>) -> String {
        let start = self
            .text
            .floor_char_boundary(span.start.min(self.text.len()));
        let end = self
            .text
            .floor_char_boundary(span.end.min(self.text.len()))
            .max(start);
        let raw = self.text[start..end].lines().next().unwrap_or("").trim();
        crate::sanitize::truncate_chars(raw, 40)
    }

    fn sort(&mut self) {
        self.diagnostics
            .sort_by_key(|diagnostic| (diagnostic.line, diagnostic.column));
    }

    fn failure(mut self, redactor: Option<&Redactor>) -> LoadFailure {
        self.sort();
        let no_secrets = Redactor::new();
        redact_all(&mut self.diagnostics, redactor.unwrap_or(&no_secrets));
        LoadFailure {
            diagnostics: self.diagnostics,
            source_text: self.text.to_string(),
        }
    }

    fn finish(self, checklist: Checklist) -> Result<Loaded, LoadFailure> {
        let redactor = Arc::clone(&checklist.redactor);
        if self.has_errors() {
            return Err(self.failure(Some(&redactor)));
        }
        let mut cx = self;
        cx.sort();
        redact_all(&mut cx.diagnostics, &redactor);
        Ok(Loaded {
            checklist,
            warnings: cx.diagnostics,
            source_text: cx.text.to_string(),
            policy: LaunchPolicy::default(),
        })
    }
}

/// Masks secret values that reached messages, such as a check setting quoted by its parser,
/// then escapes control characters, because messages quote text from the file.
fn redact_all(diagnostics: &mut [Diagnostic], redactor: &Redactor) {
    for diagnostic in diagnostics {
        diagnostic.message = terminal_safe(&redactor.redact(&diagnostic.message));
        diagnostic.help = diagnostic
            .help
            .as_deref()
            .map(|help| terminal_safe(&redactor.redact(help)));
    }
}

const TOP_KEYS: &[&str] = &[
    "checklist",
    "defaults",
    "vars",
    "secrets",
    "environments",
    "phases",
    "signoffs",
    "waivers",
];
const CHECKLIST_KEYS: &[&str] = &["title", "version", "launch_at", "waivers_file"];
const DEFAULTS_KEYS: &[&str] = &["timeout", "retries", "interval"];
const SECRET_KEYS: &[&str] = &["env", "file"];
const PHASE_KEYS: &[&str] = &["id", "title", "items"];
const ITEM_KEYS: &[&str] = &[
    "id",
    "title",
    "description",
    "severity",
    "required",
    "owner",
    "depends_on",
    "steps",
    "expected",
    "check",
    "request",
];
const CHECK_COMMON_KEYS: &[&str] = &["kind", "timeout", "retries", "interval"];
const SEVERITIES: &[&str] = &["critical", "high", "medium", "low"];

/// Returns the name of a value's type with its article, as in "expected a string, found an integer".
fn type_with_article(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl Cx<'_> {
    fn wrong_type(&mut self, key: &str, value: &Value<'_>, expected: &str) {
        let quoted = self.quote(value.span());
        let found = type_with_article(value.get_ref());
        self.error(
            value.span(),
            format!("invalid type for `{key}`: expected {expected}, found {found} `{quoted}`"),
            None,
        );
    }

    /// Reports every key of `table` not in `allowed`, suggesting the closest valid one.
    fn check_keys(&mut self, table: &DeTable<'_>, allowed: &[&str], context: &str) {
        for key in table.keys() {
            let name = key.get_ref().as_ref();
            if allowed.contains(&name) {
                continue;
            }
            let help = match closest(name, allowed.iter().copied()) {
                Some(suggestion) => format!("did you mean `{suggestion}`?"),
                None => format!("valid keys: {}", allowed.join(", ")),
            };
            self.error(
                key.span(),
                format!("unknown key `{name}` in {context}"),
                Some(help),
            );
        }
    }

    fn table<'t, 'i>(&mut self, value: &'t Value<'i>, key: &str) -> Option<&'t DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(table) => Some(table),
            _ => {
                self.wrong_type(key, value, "a table");
                None
            }
        }
    }

    fn string<'t>(&mut self, table: &'t DeTable<'_>, key: &str) -> Option<(&'t str, Range<usize>)> {
        let value = table.get(key)?;
        match value.get_ref() {
            DeValue::String(text) => Some((text.as_ref(), value.span())),
            _ => {
                self.wrong_type(key, value, "a string");
                None
            }
        }
    }

    fn bool(&mut self, table: &DeTable<'_>, key: &str) -> Option<bool> {
        let value = table.get(key)?;
        match value.get_ref() {
            DeValue::Boolean(flag) => Some(*flag),
            _ => {
                self.wrong_type(key, value, "a boolean (`true` or `false`)");
                None
            }
        }
    }

    /// Reads a duration setting, returning it with its text after variable substitution.
    fn duration(
        &mut self,
        table: &DeTable<'_>,
        key: &str,
        scope: &Resolver,
    ) -> Option<(Duration, String)> {
        let value = table.get(key)?;
        let DeValue::String(text) = value.get_ref() else {
            self.wrong_type(key, value, "a duration string such as \"10s\"");
            return None;
        };
        let text = scope.expand(self, text, value.span())?.text;
        match crate::duration::parse_duration(&text) {
            Ok(duration) => Some((duration, text.trim().to_string())),
            Err(message) => {
                self.error(
                    value.span(),
                    format!("invalid duration for `{key}`: `{text}`"),
                    Some(message),
                );
                None
            }
        }
    }

    /// Reads `timeout`, rejecting zero and values above [`MAX_TIMEOUT`].
    fn timeout(&mut self, table: &DeTable<'_>, scope: &Resolver) -> Option<Duration> {
        let (timeout, shown) = self.duration(table, "timeout", scope)?;
        let span = table.get("timeout").map_or(0..0, |value| value.span());
        let max = crate::duration::format_duration(MAX_TIMEOUT);
        if timeout.is_zero() {
            self.error(
                span,
                format!("timeout `{shown}` is zero, so every attempt would time out at once"),
                Some("write a positive duration such as `10s`".into()),
            );
            return None;
        }
        if timeout > MAX_TIMEOUT {
            self.error(
                span,
                format!("timeout `{shown}` is longer than the maximum of {max}"),
                Some(format!(
                    "write `{max}` or less, so that one attempt of a check ends in bounded time"
                )),
            );
            return None;
        }
        Some(timeout)
    }

    /// Reads `interval`, rejecting values below [`MIN_INTERVAL`].
    fn interval(&mut self, table: &DeTable<'_>, scope: &Resolver) -> Option<Duration> {
        let (interval, shown) = self.duration(table, "interval", scope)?;
        if interval >= MIN_INTERVAL {
            return Some(interval);
        }
        let span = table.get("interval").map_or(0..0, |value| value.span());
        self.error(
            span,
            format!(
                "interval `{shown}` is too short, because live checks re-run at most once a \
                 second"
            ),
            Some("write `1s` or more".into()),
        );
        None
    }

    fn retries(&mut self, table: &DeTable<'_>) -> Option<u32> {
        let value = table.get("retries")?;
        let parsed = match value.get_ref() {
            DeValue::Integer(integer) => {
                i64::from_str_radix(integer.as_str(), integer.radix()).ok()
            }
            _ => {
                self.wrong_type("retries", value, "an integer");
                return None;
            }
        };
        match parsed.and_then(|number| u32::try_from(number).ok()) {
            Some(retries) if retries > MAX_RETRIES => {
                self.error(
                    value.span(),
                    format!("retries `{retries}` is more than the maximum of {MAX_RETRIES}"),
                    Some(format!(
                        "write a number of extra attempts from 0 to {MAX_RETRIES}"
                    )),
                );
                None
            }
            Some(retries) => Some(retries),
            None => {
                let quoted = self.quote(value.span());
                self.error(
                    value.span(),
                    format!("invalid value for `retries`: `{quoted}`"),
                    Some("write a whole number of extra attempts, such as 0 or 2".into()),
                );
                None
            }
        }
    }

    /// Reads a required string key, reporting it when missing at `owner_span`.
    fn required_string<'t>(
        &mut self,
        table: &'t DeTable<'_>,
        key: &str,
        owner_span: Range<usize>,
        context: &str,
    ) -> Option<(&'t str, Range<usize>)> {
        if !table.contains_key(key) {
            self.error(
                owner_span,
                format!("missing required key `{key}` in {context}"),
                Some(format!("add `{key} = \"...\"`")),
            );
            return None;
        }
        self.string(table, key)
    }

    fn string_list(&mut self, table: &DeTable<'_>, key: &str) -> Vec<(String, Range<usize>)> {
        let Some(value) = table.get(key) else {
            return Vec::new();
        };
        let DeValue::Array(array) = value.get_ref() else {
            self.wrong_type(key, value, "an array of strings");
            return Vec::new();
        };
        let mut out = Vec::new();
        for element in array.iter() {
            match element.get_ref() {
                DeValue::String(text) => out.push((text.to_string(), element.span())),
                _ => self.wrong_type(key, element, "a string"),
            }
        }
        out
    }
}

/// Variable substitution with its diagnostics.
struct Resolver<'s> {
    scope: Scope<'s>,
    /// False when the environment could not be chosen, so that undefined variables are not
    /// reported on top of that error.
    report: bool,
    /// Whether the file defines environments, so that help can name the chosen one's table.
    has_environments: bool,
}

impl Resolver<'_> {
    /// Substitutes variables in a string whose TOML value sits at `span`.
    fn expand(&self, cx: &mut Cx<'_>, text: &str, span: Range<usize>) -> Option<vars::Expanded> {
        match self.scope.expand(text) {
            Ok(expanded) => Some(expanded),
            Err(errors) => {
                if self.report {
                    for error in errors {
                        self.report_error(cx, text, span.clone(), &error);
                    }
                }
                None
            }
        }
    }

    fn report_error(&self, cx: &mut Cx<'_>, text: &str, span: Range<usize>, error: &VarError) {
        let reference = reference_at(text, error.offset());
        let position = locate(cx.text, span, &reference);
        let environment = &self.scope.environment;
        let (message, help) = match error {
            VarError::Unclosed { .. } => (
                "unclosed `${` in string".to_string(),
                "close the variable with `}`, or write `$${` for a literal `${`".to_string(),
            ),
            VarError::InvalidName { name, .. } => (
                format!("invalid variable name `{name}`"),
                "variable names use letters, digits, `_`, `-` and `.`".to_string(),
            ),
            VarError::Undefined { name, .. } => {
                let environment_table = if self.has_environments {
                    format!("[environments.{environment}], ")
                } else {
                    String::new()
                };
                let mut help = format!(
                    "variables come from --var {name}=VALUE, {environment_table}[vars], \
                     or the process environment"
                );
                if let Some(close) = closest(name, self.scope.known_names()) {
                    help = format!("did you mean `{close}`? {help}");
                }
                (format!("undefined variable `{name}`"), help)
            }
            VarError::UndefinedSecret { name, .. } => {
                let mut help = format!(
                    "declare it as [secrets.{name}] with `env = \"VARIABLE\"` or `file = \"PATH\"`"
                );
                let names = self.scope.secrets.keys().map(String::as_str);
                if let Some(close) = closest(name, names) {
                    help = format!("did you mean `secret.{close}`? or {help}");
                }
                (format!("undefined secret `{name}`"), help)
            }
        };
        cx.error(position, message, Some(help));
    }
}

/// Returns the `${...}` reference starting at `offset` in a decoded string.
fn reference_at(text: &str, offset: usize) -> String {
    let rest = text.get(offset..).unwrap_or("");
    match rest.find('}') {
        Some(close) => rest[..=close].to_string(),
        None => rest.to_string(),
    }
}

/// Returns the span of `reference` inside the raw TOML text of a string value, or the whole value
/// when escapes make it impossible to find.
fn locate(source: &str, span: Range<usize>, reference: &str) -> Range<usize> {
    let raw = source.get(span.clone()).unwrap_or("");
    match raw.find(reference) {
        Some(found) if !reference.is_empty() => {
            span.start + found..span.start + found + reference.len()
        }
        _ => span,
    }
}

/// Builds the checklist; problems go to `cx` and the result is only used when there are none.
fn build(
    cx: &mut Cx<'_>,
    root: &DeTable<'_>,
    request: &mut Request<'_>,
    digest: String,
) -> Checklist {
    cx.check_keys(root, TOP_KEYS, "the top level");
    let header = read_header(cx, root);
    let file_defaults = read_defaults(cx, root, request.defaults);
    let shared_vars = read_var_table(cx, root.get("vars"), "vars", &[]);
    let secrets = read_secrets(cx, root.get("secrets"), "secrets");
    let environments = read_environments(cx, root.get("environments"));
    let names: Vec<String> = environments.iter().map(|env| env.name.clone()).collect();
    let environments_span = root
        .get_key_value("environments")
        .map_or(0..0, |(key, _)| key.span());
    let chosen = choose_environment(cx, request.environment, &names, environments_span);
    let environment = chosen
        .as_ref()
        .and_then(|name| environments.iter().find(|env| &env.name == name));

    let mut redactor = Redactor::new();
    let mut secret_sources = secrets;
    if let Some(environment) = environment {
        for (name, source) in &environment.secrets {
            secret_sources.insert(name.clone(), source.clone());
        }
    }
    let mut secret_values = BTreeMap::new();
    let mut secret_refs = Vec::new();
    for (name, (source, span)) in &secret_sources {
        let value = vars::read_secret(name, source, request.env);
        match &value {
            SecretValue::Available(secret) => {
                redactor.add(secret);
                secret_refs.push(SecretRef {
                    value: secret.clone(),
                    shell: shell_reference(source),
                });
            }
            SecretValue::Missing(reason) => cx.warning(
                span.clone(),
                reason.clone(),
                Some("checks that use this secret end in an error outcome until it is set".into()),
            ),
        }
        secret_values.insert(name.clone(), value);
    }

    let resolver = Resolver {
        scope: Scope {
            overrides: request.overrides,
            environment: chosen.clone().unwrap_or_else(|| "default".into()),
            environment_vars: environment.map(|env| env.vars.clone()).unwrap_or_default(),
            shared_vars,
            process_env: request.env,
            secrets: secret_values,
        },
        report: chosen.is_some(),
        has_environments: !names.is_empty(),
    };
    let mut graph = Graph::default();
    let phases = read_phases(
        cx,
        root,
        &resolver,
        &file_defaults,
        &mut graph,
        &mut redactor,
    );
    graph.check(cx);

    Checklist {
        title: header.title,
        version: header.version,
        launch_at: header.launch_at,
        path: cx.path.to_path_buf(),
        digest,
        environment: chosen.unwrap_or_else(|| "default".into()),
        environments: names,
        phases,
        redactor: Arc::new(redactor),
        secret_refs,
    }
}

/// Returns a double-quoted shell word that reads a secret from its source. Text from the
/// checklist is single-quoted unless it is a portable variable name or a path made only of
/// ASCII letters, digits and `/._-`:
///
/// - `"$VARIABLE"` for an environment variable whose name is portable (see
///   [`is_portable_env_name`]);
/// - `"$(printenv 'NAME')"` for any other name, such as `MY-TOKEN`, which `$` cannot expand;
/// - `"$(cat PATH)"` for a file, where a leading `~/` stays unquoted so that the shell expands
///   it to the home folder, as the loader does.
fn shell_reference(source: &SecretSource) -> String {
    match source {
        SecretSource::Env(variable) if is_portable_env_name(variable) => {
            format!("\"${variable}\"")
        }
        SecretSource::Env(variable) => {
            // `--` keeps a name that starts with `-` from being read as an option.
            let separator = if variable.starts_with('-') { "-- " } else { "" };
            format!("\"$(printenv {separator}{})\"", single_quoted(variable))
        }
        SecretSource::File(path) => {
            let (home, rest) = match path.strip_prefix("~/") {
                Some(rest) => ("~/", rest),
                None if path == "~" => ("~", ""),
                None => ("", path.as_str()),
            };
            // A relative path that starts with `-` would be read by `cat` as an option.
            let prefix = if home.is_empty() && rest.starts_with('-') {
                "./"
            } else {
                ""
            };
            let plain = rest
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '/' | '.' | '_' | '-'));
            let quoted = if home == "~" || (plain && !rest.is_empty()) {
                rest.to_string()
            } else {
                single_quoted(rest)
            };
            format!("\"$(cat {home}{prefix}{quoted})\"")
        }
    }
}

/// Quotes text as one single-quoted shell word: inside single quotes only `'` is special, so
/// each `'` closes the quotes, adds an escaped quote and opens them again.
fn single_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Whether `name` is an environment variable name that every POSIX shell can expand with `$`
/// and passes on to the commands it runs: `^[A-Za-z_][A-Za-z0-9_]*$`. Shells such as dash drop
/// other names from the environment.
pub fn is_portable_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_');
    starts_well && chars.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

#[derive(Default)]
struct Header {
    title: String,
    version: Option<String>,
    launch_at: Option<jiff::Timestamp>,
}

fn read_header(cx: &mut Cx<'_>, root: &DeTable<'_>) -> Header {
    let mut header = Header::default();
    let Some(value) = root.get("checklist") else {
        cx.error(
            0..0,
            "missing required table [checklist]".into(),
            Some("add a [checklist] table with `title = \"...\"`".into()),
        );
        return header;
    };
    let Some(table) = cx.table(value, "checklist") else {
        return header;
    };
    cx.check_keys(table, CHECKLIST_KEYS, "[checklist]");
    if let Some((title, _)) = cx.required_string(table, "title", value.span(), "[checklist]") {
        header.title = title.to_string();
    }
    header.version = cx
        .string(table, "version")
        .map(|(text, _)| text.to_string());
    if let Some(value) = table.get("launch_at") {
        header.launch_at = read_launch_at(cx, value);
    }
    header
}

fn read_launch_at(cx: &mut Cx<'_>, value: &Value<'_>) -> Option<jiff::Timestamp> {
    let text = match value.get_ref() {
        DeValue::String(text) => text.to_string(),
        DeValue::Datetime(datetime) => datetime.to_string(),
        _ => {
            cx.wrong_type("launch_at", value, "an RFC 3339 time string");
            return None;
        }
    };
    match text.parse::<jiff::Timestamp>() {
        Ok(timestamp) => Some(timestamp),
        // Text that jiff parses into a date, time and offset is valid RFC 3339, so the only
        // reason left for it to fail as a timestamp is that it lies outside jiff's range.
        Err(_) if is_rfc3339_with_offset(&text) => {
            let first = jiff::Timestamp::MIN;
            let last = jiff::Timestamp::from_second(jiff::Timestamp::MAX.as_second())
                .unwrap_or(jiff::Timestamp::MAX);
            cx.error(
                value.span(),
                format!("`launch_at` time `{text}` is out of the supported range"),
                Some(format!("write a time from {first} to {last}")),
            );
            None
        }
        Err(_) => {
            cx.error(
                value.span(),
                format!("invalid `launch_at` time `{text}`"),
                Some(
                    "write an RFC 3339 time with its UTC offset, such as \
                     \"2026-02-16T08:00:00+02:00\""
                        .into(),
                ),
            );
            None
        }
    }
}

fn is_rfc3339_with_offset(text: &str) -> bool {
    jiff::fmt::temporal::Pieces::parse(text)
        .is_ok_and(|pieces| pieces.time().is_some() && pieces.offset().is_some())
}

/// Check timing settings from `[defaults]`, with `config.toml` values for the unset ones.
struct FileDefaults {
    timeout: Duration,
    retries: u32,
    interval: Option<Duration>,
}

fn read_defaults(cx: &mut Cx<'_>, root: &DeTable<'_>, defaults: &LoadDefaults) -> FileDefaults {
    let mut out = FileDefaults {
        timeout: defaults.timeout,
        retries: 0,
        interval: None,
    };
    let Some(value) = root.get("defaults") else {
        return out;
    };
    let Some(table) = cx.table(value, "defaults") else {
        return out;
    };
    cx.check_keys(table, DEFAULTS_KEYS, "[defaults]");
    let no_vars = BTreeMap::new();
    let empty = Resolver {
        scope: Scope {
            overrides: &no_vars,
            environment: String::new(),
            environment_vars: BTreeMap::new(),
            shared_vars: BTreeMap::new(),
            process_env: &|_| None,
            secrets: BTreeMap::new(),
        },
        report: true,
        has_environments: false,
    };
    if let Some(timeout) = cx.timeout(table, &empty) {
        out.timeout = timeout;
    }
    if let Some(retries) = cx.retries(table) {
        out.retries = retries;
    }
    out.interval = cx.interval(table, &empty);
    out
}

/// Reads a table of variables: string, integer or boolean values. Keys in `skip` are handled
/// by the caller.
fn read_var_table(
    cx: &mut Cx<'_>,
    value: Option<&Value<'_>>,
    context: &str,
    skip: &[&str],
) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    let Some(table) = value.and_then(|value| cx.table(value, context)) else {
        return vars;
    };
    for (key, value) in table.iter() {
        let name = key.get_ref().as_ref();
        if skip.contains(&name) {
            continue;
        }
        let text = match value.get_ref() {
            DeValue::String(text) => {
                // Values are used as written, so a reference inside one would stay literal.
                if text.replace("$${", "").contains("${") {
                    cx.warning(
                        value.span(),
                        format!(
                            "variable `{name}` contains a `${{...}}` reference, which is not \
                             expanded inside a variable's value: `{text}`"
                        ),
                        Some(
                            "write the value out in full, or write the reference where the \
                             variable is used"
                                .into(),
                        ),
                    );
                }
                text.to_string()
            }
            DeValue::Integer(integer) => integer.to_string(),
            DeValue::Boolean(flag) => flag.to_string(),
            _ => {
                cx.wrong_type(name, value, "a string, an integer or a boolean");
                continue;
            }
        };
        vars.insert(name.to_string(), text);
    }
    vars
}

type SecretSources = BTreeMap<String, (SecretSource, Range<usize>)>;

fn read_secrets(cx: &mut Cx<'_>, value: Option<&Value<'_>>, context: &str) -> SecretSources {
    let mut secrets = BTreeMap::new();
    let Some(table) = value.and_then(|value| cx.table(value, context)) else {
        return secrets;
    };
    for (key, value) in table.iter() {
        let name = key.get_ref().as_ref();
        let secret_context = format!("[{context}.{name}]");
        let Some(entry) = cx.table(value, &format!("{context}.{name}")) else {
            continue;
        };
        cx.check_keys(entry, SECRET_KEYS, &secret_context);
        let env = cx.string(entry, "env");
        let file = cx.string(entry, "file");
        let source = match (env, file) {
            (Some((variable, span)), None) => {
                if !is_portable_env_name(variable) {
                    warn_env_name(cx, name, span.clone());
                }
                (SecretSource::Env(variable.to_string()), span)
            }
            (None, Some((path, span))) => (SecretSource::File(path.to_string()), span),
            (Some(_), Some((_, span))) => {
                cx.error(
                    span,
                    format!("secret `{name}` sets both `env` and `file`"),
                    Some("keep one source: `env = \"VARIABLE\"` or `file = \"PATH\"`".into()),
                );
                continue;
            }
            (None, None) => {
                if !entry.contains_key("env") && !entry.contains_key("file") {
                    cx.error(
                        key.span(),
                        format!("secret `{name}` has no source"),
                        Some("add `env = \"VARIABLE\"` or `file = \"PATH\"`".into()),
                    );
                }
                continue;
            }
        };
        secrets.insert(name.to_string(), source);
    }
    secrets
}

/// Warns that a secret's `env` is not a portable variable name, because POSIX shells cannot
/// expand it with `$` and some drop it from the environment.
fn warn_env_name(cx: &mut Cx<'_>, secret: &str, span: Range<usize>) {
    let written = cx.quote(span.clone());
    cx.warning(
        span,
        format!("secret `{secret}`: env = {written} is not a portable environment variable name"),
        Some(
            "use letters, digits and `_`, not starting with a digit. Shells such as dash drop \
             other names from the environment, so a copied curl command may send the secret empty"
                .into(),
        ),
    );
}

struct Environment {
    name: String,
    vars: BTreeMap<String, String>,
    secrets: SecretSources,
}

fn read_environments(cx: &mut Cx<'_>, value: Option<&Value<'_>>) -> Vec<Environment> {
    let mut environments = Vec::new();
    let Some(table) = value.and_then(|value| cx.table(value, "environments")) else {
        return environments;
    };
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    for (key, value) in entries {
        let name = key.get_ref().to_string();
        let context = format!("environments.{name}");
        let Some(env_table) = cx.table(value, &context) else {
            continue;
        };
        if let Some(description) = env_table.get("description")
            && !description.get_ref().is_str()
        {
            cx.wrong_type("description", description, "a string");
        }
        let secrets = read_secrets(cx, env_table.get("secrets"), &format!("{context}.secrets"));
        let vars = read_var_table(cx, Some(value), &context, &["description", "secrets"]);
        environments.push(Environment {
            name,
            vars,
            secrets,
        });
    }
    environments
}

fn choose_environment(
    cx: &mut Cx<'_>,
    requested: Option<&str>,
    names: &[String],
    span: Range<usize>,
) -> Option<String> {
    let listed = names.join(", ");
    match requested {
        None => match names {
            [] => Some("default".into()),
            [only] => Some(only.clone()),
            _ => {
                cx.error(
                    span,
                    format!("the checklist defines several environments: {listed}"),
                    Some("choose one with --env NAME".into()),
                );
                None
            }
        },
        Some(name) if names.iter().any(|known| known == name) => Some(name.to_string()),
        Some("default") if names.is_empty() => Some("default".into()),
        Some(name) => {
            let help = if names.is_empty() {
                "the checklist defines no environments; leave out --env".to_string()
            } else {
                match closest(name, names.iter().map(String::as_str)) {
                    Some(close) => {
                        format!("did you mean `{close}`? defined environments: {listed}")
                    }
                    None => format!("defined environments: {listed}"),
                }
            };
            cx.error(
                span,
                format!("environment `{name}` is not defined"),
                Some(help),
            );
            None
        }
    }
}

/// A `depends_on` entry: the target id and the span of the entry.
type Dependency = (String, Range<usize>);

/// Item ids and dependencies, checked once every item is read.
#[derive(Default)]
struct Graph {
    /// Every item id in file order with the span of its value.
    ids: Vec<(String, Range<usize>)>,
    /// First definition of each id: its index in `ids`.
    first: HashMap<String, usize>,
    /// `depends_on` entries of each id in `ids`: target and span.
    edges: Vec<Vec<Dependency>>,
    /// `depends_on` entries of items whose id repeats an earlier one.
    duplicate_edges: Vec<(String, Vec<Dependency>)>,
}

impl Graph {
    /// Registers an item id, reporting a duplicate.
    fn add(&mut self, cx: &mut Cx<'_>, id: &str, span: Range<usize>, deps: Vec<Dependency>) {
        if let Some(&index) = self.first.get(id) {
            let line = cx.line_of(self.ids[index].1.start);
            cx.error(
                span,
                format!("duplicate item id `{id}`"),
                Some(format!(
                    "the first item with this id is on line {line}; item ids must be unique"
                )),
            );
            // A duplicate takes no part in the cycle search, but its targets must exist.
            self.duplicate_edges.push((id.to_string(), deps));
            return;
        }
        self.first.insert(id.to_string(), self.ids.len());
        self.ids.push((id.to_string(), span));
        self.edges.push(deps);
    }

    fn check(&self, cx: &mut Cx<'_>) {
        let registered = self.ids.iter().map(|(id, _)| id).zip(&self.edges);
        let duplicates = self.duplicate_edges.iter().map(|(id, deps)| (id, deps));
        for (id, deps) in registered.chain(duplicates) {
            for (target, span) in deps {
                if self.first.contains_key(target) {
                    continue;
                }
                let help = match closest(target, self.ids.iter().map(|(id, _)| id.as_str())) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => "`depends_on` lists ids of items in this checklist".to_string(),
                };
                cx.error(
                    span.clone(),
                    format!(
                        "item `{id}` depends on `{target}`, which is not an item of this checklist"
                    ),
                    Some(help),
                );
            }
        }
        self.check_cycles(cx);
    }

    /// Reports each dependency cycle once, at the `depends_on` entry that closes it.
    fn check_cycles(&self, cx: &mut Cx<'_>) {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Active,
            Done,
        }
        let mut marks = vec![Mark::New; self.ids.len()];
        let mut reported: HashSet<Vec<usize>> = HashSet::new();
        for start in 0..self.ids.len() {
            if marks[start] != Mark::New {
                continue;
            }
            // Iterative depth-first search, so that long chains cannot overflow the stack.
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            marks[start] = Mark::Active;
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                let Some((target, span)) = self.edges[node].get(*next) else {
                    marks[node] = Mark::Done;
                    stack.pop();
                    continue;
                };
                *next += 1;
                let Some(&target) = self.first.get(target) else {
                    continue;
                };
                match marks[target] {
                    Mark::New => {
                        marks[target] = Mark::Active;
                        stack.push((target, 0));
                    }
                    Mark::Active => {
                        let from = stack
                            .iter()
                            .position(|&(entry, _)| entry == target)
                            .unwrap_or(0);
                        let cycle: Vec<usize> =
                            stack[from..].iter().map(|&(entry, _)| entry).collect();
                        let mut key = cycle.clone();
                        key.sort_unstable();
                        if reported.insert(key) {
                            self.report_cycle(cx, &cycle, span.clone());
                        }
                    }
                    Mark::Done => {}
                }
            }
        }
    }

    fn report_cycle(&self, cx: &mut Cx<'_>, cycle: &[usize], span: Range<usize>) {
        let mut names: Vec<&str> = cycle
            .iter()
            .map(|&index| self.ids[index].0.as_str())
            .collect();
        names.push(names[0]);
        cx.error(
            span,
            format!("dependency cycle: {}", names.join(" -> ")),
            Some(
                "remove one of these `depends_on` entries so the items can be done in order".into(),
            ),
        );
    }
}

fn read_phases(
    cx: &mut Cx<'_>,
    root: &DeTable<'_>,
    resolver: &Resolver<'_>,
    defaults: &FileDefaults,
    graph: &mut Graph,
    redactor: &mut Redactor,
) -> Vec<Phase> {
    let mut phases = Vec::new();
    let Some(value) = root.get("phases") else {
        return phases;
    };
    let DeValue::Array(array) = value.get_ref() else {
        cx.wrong_type("phases", value, "an array of tables written as [[phases]]");
        return phases;
    };
    let mut phase_lines: HashMap<String, usize> = HashMap::new();
    for phase_value in array.iter() {
        let Some(table) = cx.table(phase_value, "phases") else {
            continue;
        };
        cx.check_keys(table, PHASE_KEYS, "a phase");
        let id = cx.required_string(table, "id", phase_value.span(), "a phase");
        let context = match &id {
            Some((id, _)) => format!("phase `{id}`"),
            None => "a phase".to_string(),
        };
        let title = cx.required_string(table, "title", phase_value.span(), &context);
        if let Some((id, span)) = &id {
            check_id(cx, id, span.clone(), "phase");
            match phase_lines.get(*id) {
                Some(line) => cx.error(
                    span.clone(),
                    format!("duplicate phase id `{id}`"),
                    Some(format!(
                        "the first phase with this id is on line {line}; phase ids must be unique"
                    )),
                ),
                None => {
                    phase_lines.insert(id.to_string(), cx.line_of(span.start));
                }
            }
        }
        let mut items = Vec::new();
        if let Some(items_value) = table.get("items") {
            if let DeValue::Array(item_values) = items_value.get_ref() {
                for item_value in item_values.iter() {
                    let item = read_item(cx, item_value, resolver, defaults, graph, redactor);
                    items.extend(item);
                }
            } else {
                cx.wrong_type(
                    "items",
                    items_value,
                    "an array of tables written as [[phases.items]]",
                );
            }
        }
        phases.push(Phase {
            id: id.map(|(id, _)| id.to_string()).unwrap_or_default(),
            title: title
                .map(|(title, _)| title.to_string())
                .unwrap_or_default(),
            items,
        });
    }
    phases
}

/// Reports an id with characters other than letters, digits, `-`, `_` and `.`.
fn check_id(cx: &mut Cx<'_>, id: &str, span: Range<usize>, what: &str) {
    let valid = !id.is_empty()
        && id
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'));
    if !valid {
        cx.error(
            span,
            format!("invalid {what} id `{id}`"),
            Some("ids use letters, digits, `-`, `_` and `.`".into()),
        );
    }
}

fn read_item(
    cx: &mut Cx<'_>,
    value: &Value<'_>,
    resolver: &Resolver<'_>,
    defaults: &FileDefaults,
    graph: &mut Graph,
    redactor: &mut Redactor,
) -> Option<Item> {
    let table = cx.table(value, "items")?;
    let id = cx.required_string(table, "id", value.span(), "an item");
    let context = match &id {
        Some((id, _)) => format!("item `{id}`"),
        None => "an item".to_string(),
    };
    cx.check_keys(table, ITEM_KEYS, &context);
    let title = cx.required_string(table, "title", value.span(), &context);
    let title = title.and_then(|(text, span)| resolver.expand(cx, text, span));
    let text_field = |cx: &mut Cx<'_>, key: &str| {
        cx.string(table, key)
            .and_then(|(text, span)| resolver.expand(cx, text, span))
            .map(|expanded| expanded.text)
    };
    let description = text_field(cx, "description");
    let owner = text_field(cx, "owner");
    let expected = text_field(cx, "expected");
    let severity = read_severity(cx, table);
    let required = cx.bool(table, "required").unwrap_or(true);
    let depends_on = cx.string_list(table, "depends_on");
    if let Some((id, span)) = &id {
        check_id(cx, id, span.clone(), "item");
        graph.add(cx, id, span.clone(), depends_on.clone());
    }

    let body = match (table.get_key_value("steps"), table.get_key_value("check")) {
        (Some(_), Some((check_key, _))) => {
            cx.error(
                check_key.span(),
                format!("{context} has both `steps` and `check`"),
                Some(
                    "an item is either manual (`steps`) or automated (`check`); split it in two"
                        .into(),
                ),
            );
            None
        }
        (None, None) => {
            let span = id.as_ref().map_or(value.span(), |(_, span)| span.clone());
            cx.error(
                span,
                format!("{context} has neither `steps` nor `check`"),
                Some(
                    "add `steps = [\"...\"]` for a manual item, or a `check` table for an \
                     automated one"
                        .into(),
                ),
            );
            None
        }
        (Some(_), None) => {
            let mut steps = Vec::new();
            for (text, span) in cx.string_list(table, "steps") {
                if let Some(expanded) = resolver.expand(cx, &text, span) {
                    steps.push(expanded.text);
                }
            }
            match table.get("request") {
                Some(request_value) => {
                    read_request(cx, request_value, resolver, defaults, redactor).map(|request| {
                        ItemBody::Manual(ManualSteps {
                            steps,
                            expected,
                            request: Some(request),
                        })
                    })
                }
                None => Some(ItemBody::Manual(ManualSteps {
                    steps,
                    expected,
                    request: None,
                })),
            }
        }
        (None, Some((_, check_value))) => {
            if let Some((request_key, _)) = table.get_key_value("request") {
                cx.error(
                    request_key.span(),
                    format!("{context} has a `request` table, but it is an automated check"),
                    Some(
                        "`request` is for manual items (`steps`); an automated item sends its \
                         request from the `check` table"
                            .into(),
                    ),
                );
            }
            read_check(cx, check_value, resolver, defaults, redactor).map(ItemBody::Check)
        }
    };

    Some(Item {
        id: id.map(|(id, _)| id.to_string())?,
        title: title?.text,
        description,
        severity,
        required,
        owner,
        depends_on: depends_on.into_iter().map(|(target, _)| target).collect(),
        body: body?,
    })
}

fn read_severity(cx: &mut Cx<'_>, table: &DeTable<'_>) -> Severity {
    let Some((text, span)) = cx.string(table, "severity") else {
        return Severity::Medium;
    };
    match text {
        "critical" => Severity::Critical,
        "high" => Severity::High,
        "medium" => Severity::Medium,
        "low" => Severity::Low,
        other => {
            let valid = SEVERITIES.join(", ");
            let help = match closest(other, SEVERITIES.iter().copied()) {
                Some(close) => format!("did you mean `{close}`? valid severities: {valid}"),
                None => format!("valid severities: {valid}"),
            };
            cx.error(span, format!("invalid severity `{other}`"), Some(help));
            Severity::Medium
        }
    }
}

fn read_check(
    cx: &mut Cx<'_>,
    value: &Value<'_>,
    resolver: &Resolver<'_>,
    defaults: &FileDefaults,
    redactor: &mut Redactor,
) -> Option<CheckDef> {
    let table = cx.table(value, "check")?;
    let kind = read_kind(cx, table, value.span());
    let timeout = cx.timeout(table, resolver);
    let retries = cx.retries(table);
    let interval = cx.interval(table, resolver);
    let unknown = match kind {
        Some(kind) => check_setting_keys(cx, table, kind, CHECK_COMMON_KEYS, "check"),
        None => Vec::new(),
    };
    let converted = convert_settings(cx, table, resolver, redactor, CHECK_COMMON_KEYS);
    let ConvertedSettings {
        mut settings,
        unavailable,
        invalid,
    } = converted;
    let kind = kind?;
    // Unknown keys are already reported, so the kind's parser receives only the known ones and
    // can report the value errors among them in the same run.
    for key in &unknown {
        remove_path(&mut settings, &key.path);
    }
    let place = SettingsTable {
        table,
        span: value.span(),
        name: "check",
    };
    let spec = parse_settings(cx, kind, settings, &place, &unknown, &invalid);
    if !invalid.is_empty() || !unknown.is_empty() {
        return None;
    }
    Some(CheckDef {
        spec: spec?,
        timeout: timeout.unwrap_or(defaults.timeout),
        retries: retries.unwrap_or(defaults.retries),
        interval: interval.or(defaults.interval),
        unavailable,
    })
}

/// Reads the `request` table of a manual item, which takes the settings of an `http` check.
fn read_request(
    cx: &mut Cx<'_>,
    value: &Value<'_>,
    resolver: &Resolver<'_>,
    defaults: &FileDefaults,
    redactor: &mut Redactor,
) -> Option<ManualRequest> {
    const KIND: &str = "http";
    let table = cx.table(value, "request")?;
    let unknown = check_setting_keys(cx, table, KIND, &[], "request");
    let ConvertedSettings {
        mut settings,
        unavailable,
        invalid,
    } = convert_settings(cx, table, resolver, redactor, &[]);
    for key in &unknown {
        remove_path(&mut settings, &key.path);
    }
    let place = SettingsTable {
        table,
        span: value.span(),
        name: "request",
    };
    let spec = parse_settings(cx, KIND, settings, &place, &unknown, &invalid);
    if !invalid.is_empty() || !unknown.is_empty() {
        return None;
    }
    Some(ManualRequest {
        spec: spec?,
        timeout: defaults.timeout,
        unavailable,
    })
}

/// A settings table (`check` or `request`) as written, for pointing errors at its keys.
struct SettingsTable<'t, 'i> {
    table: &'t DeTable<'i>,
    span: Range<usize>,
    /// The table's key, which messages name, such as `check`.
    name: &'static str,
}

/// Settings converted to plain TOML, with what the conversion found.
struct ConvertedSettings {
    settings: toml::Table,
    /// Reasons the settings cannot be used, such as a secret whose source is not set.
    unavailable: Vec<String>,
    /// Keys whose conversion failed and that were reported and left out.
    invalid: Vec<String>,
}

/// Converts every setting of a table except the `skip` keys, substituting variables.
fn convert_settings(
    cx: &mut Cx<'_>,
    table: &DeTable<'_>,
    resolver: &Resolver<'_>,
    redactor: &mut Redactor,
    skip: &[&str],
) -> ConvertedSettings {
    let mut settings = toml::Table::new();
    let mut unavailable = Vec::new();
    // Settings whose conversion failed (an undefined variable, say) are already reported and
    // left out, so that the kind's parser does not report their placeholder values too.
    let mut invalid = Vec::new();
    for (key, setting) in table.iter() {
        let name = key.get_ref().as_ref();
        if skip.contains(&name) {
            continue;
        }
        let mut convert = Converter {
            cx: &mut *cx,
            resolver,
            unavailable: &mut unavailable,
            redactor: &mut *redactor,
            valid: true,
        };
        let converted = convert.value(setting, 0);
        if convert.valid {
            settings.insert(name.to_string(), converted);
        } else {
            invalid.push(name.to_string());
        }
    }
    ConvertedSettings {
        settings,
        unavailable,
        invalid,
    }
}

/// A key of a `check` table or its `expect` table that the kind does not know.
struct UnknownKey {
    /// Dotted path inside the `check` table, such as `expect.statuss`.
    path: String,
    /// Dotted path of the valid key suggested in its place, such as `expect.status`.
    suggestion: Option<String>,
}

/// Reports every key of a settings table (named `name` in messages) and of its `expect` table
/// that `kind` does not define besides `common`, each with the closest valid key, and returns
/// them.
fn check_setting_keys(
    cx: &mut Cx<'_>,
    table: &DeTable<'_>,
    kind: &str,
    common: &[&str],
    name: &str,
) -> Vec<UnknownKey> {
    let Some((check_keys, expect_keys)) = checks::settings_keys(kind) else {
        return Vec::new();
    };
    let allowed: Vec<&str> = common.iter().chain(check_keys).copied().collect();
    let mut unknown = unknown_keys(cx, table, &allowed, "", name);
    if let Some(DeValue::Table(expect)) = table.get("expect").map(Spanned::get_ref) {
        unknown.extend(unknown_keys(cx, expect, expect_keys, "expect", name));
    }
    unknown
}

fn unknown_keys(
    cx: &mut Cx<'_>,
    table: &DeTable<'_>,
    allowed: &[&str],
    parent: &str,
    name: &str,
) -> Vec<UnknownKey> {
    let context = qualified(name, parent);
    let mut unknown = Vec::new();
    for key in table.keys() {
        let name: &str = key.get_ref().as_ref();
        if allowed.contains(&name) {
            continue;
        }
        let suggestion = closest(name, allowed.iter().copied());
        let help = match suggestion {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!("valid keys: {}", allowed.join(", ")),
        };
        cx.error(
            key.span(),
            format!("unknown key `{name}` in {context}"),
            Some(help),
        );
        unknown.push(UnknownKey {
            path: join_path(parent, name),
            suggestion: suggestion.map(|close| join_path(parent, close)),
        });
    }
    unknown
}

/// Maximum number of times a check's settings are parsed again after removing a bad value.
const MAX_SETTINGS_ROUNDS: usize = 20;

/// Parses a check's settings with the kind's parser, reporting as many errors as it can.
///
/// The parser stops at its first error, so after each error the offending value is removed
/// and the settings are parsed again, until they parse or an error cannot be pinned to one
/// value. A missing required key is not reported when its value was removed (here, or before
/// the call as one of `removed`) or when an unknown key reported earlier is likely its
/// misspelling. Returns the settings only when no error was found.
fn parse_settings(
    cx: &mut Cx<'_>,
    kind: &str,
    mut settings: toml::Table,
    place: &SettingsTable<'_, '_>,
    unknown: &[UnknownKey],
    removed: &[String],
) -> Option<CheckSpec> {
    let mut removed = removed.to_vec();
    let mut reported = false;
    for _ in 0..MAX_SETTINGS_ROUNDS {
        let err = match checks::parse_spec(kind, settings.clone()) {
            Ok(spec) => return (!reported).then_some(spec),
            Err(err) => err,
        };
        if let Some(missing) = missing_field(err.message.trim()) {
            let path = join_path(&err.path, &missing);
            let suggested = unknown
                .iter()
                .any(|key| key.suggestion.as_deref() == Some(path.as_str()));
            if removed.contains(&path) || suggested {
                return None;
            }
        }
        report_spec_error(cx, place, &err);
        reported = true;
        if err.path.is_empty() || !remove_path(&mut settings, &err.path) {
            return None;
        }
        removed.push(err.path);
    }
    None
}

/// Removes the value at a dotted settings path such as `expect.status` or `headers[0]`,
/// returning whether something was removed. An array element takes its whole array along.
fn remove_path(table: &mut toml::Table, path: &str) -> bool {
    // Keys may themselves contain dots, so the longest matching key wins, as in `find_path`.
    let name = table
        .keys()
        .filter(|name| {
            path.strip_prefix(name.as_str()).is_some_and(|rest| {
                rest.is_empty() || rest.starts_with('.') || rest.starts_with('[')
            })
        })
        .max_by_key(|name| name.len())
        .cloned();
    let Some(name) = name else {
        return false;
    };
    if let Some(rest) = path[name.len()..].strip_prefix('.')
        && let Some(toml::Value::Table(inner)) = table.get_mut(&name)
        && remove_path(inner, rest)
    {
        return true;
    }
    table.remove(&name).is_some()
}

fn read_kind<'t>(cx: &mut Cx<'_>, table: &'t DeTable<'_>, span: Range<usize>) -> Option<&'t str> {
    let valid = checks::KINDS.join(", ");
    let Some((kind, kind_span)) = cx.string(table, "kind") else {
        if !table.contains_key("kind") {
            cx.error(
                span,
                "missing required key `kind` in check".into(),
                Some(format!("add `kind = \"...\"`; valid kinds: {valid}")),
            );
        }
        return None;
    };
    if checks::KINDS.contains(&kind) {
        return Some(kind);
    }
    let help = match closest(kind, checks::KINDS.iter().copied()) {
        Some(close) => format!("did you mean `{close}`? valid kinds: {valid}"),
        None => format!("valid kinds: {valid}"),
    };
    cx.error(
        kind_span,
        format!("unknown check kind `{kind}`"),
        Some(help),
    );
    None
}

/// Maximum nesting of tables and arrays inside a check's settings.
const MAX_SETTINGS_DEPTH: usize = 32;

/// Converts spanned check settings into plain TOML values, substituting variables.
struct Converter<'c, 'a, 'r, 's> {
    cx: &'c mut Cx<'a>,
    resolver: &'r Resolver<'s>,
    unavailable: &'c mut Vec<String>,
    redactor: &'c mut Redactor,
    valid: bool,
}

impl Converter<'_, '_, '_, '_> {
    fn value(&mut self, value: &Value<'_>, depth: usize) -> toml::Value {
        if depth > MAX_SETTINGS_DEPTH {
            self.cx.error(
                value.span(),
                "check settings are nested too deeply".into(),
                None,
            );
            self.valid = false;
            return toml::Value::Boolean(false);
        }
        match value.get_ref() {
            DeValue::String(text) => match self.resolver.expand(self.cx, text, value.span()) {
                Some(expanded) => {
                    for secret in &expanded.secrets_used {
                        self.redactor.add(secret);
                    }
                    for reason in expanded.missing_secrets {
                        if !self.unavailable.contains(&reason) {
                            self.unavailable.push(reason);
                        }
                    }
                    toml::Value::String(expanded.text)
                }
                None => {
                    self.valid = false;
                    toml::Value::String(String::new())
                }
            },
            DeValue::Integer(integer) => {
                match i64::from_str_radix(integer.as_str(), integer.radix()) {
                    Ok(number) => toml::Value::Integer(number),
                    Err(_) => {
                        let quoted = self.cx.quote(value.span());
                        self.cx.error(
                            value.span(),
                            format!("integer `{quoted}` is out of range"),
                            None,
                        );
                        self.valid = false;
                        toml::Value::Integer(0)
                    }
                }
            }
            DeValue::Float(float) => {
                toml::Value::Float(float.as_str().parse::<f64>().unwrap_or(f64::NAN))
            }
            DeValue::Boolean(flag) => toml::Value::Boolean(*flag),
            DeValue::Datetime(datetime) => toml::Value::Datetime(*datetime),
            DeValue::Array(array) => toml::Value::Array(
                array
                    .iter()
                    .map(|element| self.value(element, depth + 1))
                    .collect(),
            ),
            DeValue::Table(table) => {
                let mut out = toml::Table::new();
                for (key, entry) in table.iter() {
                    out.insert(key.get_ref().to_string(), self.value(entry, depth + 1));
                }
                toml::Value::Table(out)
            }
        }
    }
}

/// Points a kind's settings error at the key it names, inside the `check` table.
fn report_spec_error(cx: &mut Cx<'_>, place: &SettingsTable<'_, '_>, err: &SpecError) {
    let check = place.table;
    let check_span = place.span.clone();
    // The toml deserialiser appends "in `key`" lines that repeat the path.
    let first_line = err.message.lines().next().unwrap_or("").trim();
    let err = &SpecError {
        path: err.path.clone(),
        message: first_line.to_string(),
    };
    if let Some(unknown) = unknown_field(&err.message) {
        let parent = err.path.strip_suffix(unknown.as_str()).unwrap_or(&err.path);
        let parent = parent.trim_end_matches('.');
        let context = qualified(place.name, parent);
        let span = find_path(check, &join_path(parent, &unknown))
            .map_or(check_span.clone(), |(key, _)| key);
        let expected = expected_fields(&err.message);
        let help = match closest(&unknown, expected.iter().map(String::as_str)) {
            Some(close) => format!("did you mean `{close}`?"),
            None if expected.is_empty() => "this table takes no keys".to_string(),
            None => format!("valid keys: {}", expected.join(", ")),
        };
        cx.error(
            span,
            format!("unknown key `{unknown}` in {context}"),
            Some(help),
        );
        return;
    }
    if let Some(missing) = missing_field(&err.message) {
        let span = find_path(check, &err.path).map_or(check_span, |(_, value)| value);
        let context = qualified(place.name, &err.path);
        cx.error(
            span,
            format!("missing required key `{missing}` in {context}"),
            None,
        );
        return;
    }
    match find_path(check, &err.path) {
        Some((_, value_span)) => {
            let quoted = cx.quote(value_span.clone());
            cx.error(
                value_span,
                format!(
                    "invalid value for `{}` (`{quoted}`): {}",
                    err.path, err.message
                ),
                None,
            );
        }
        None => {
            let label = qualified(place.name, &err.path);
            cx.error(
                check_span,
                format!("invalid {label}: {}", err.message),
                None,
            );
        }
    }
}

/// Names a path inside a settings table for messages, such as `check.expect`, or the table
/// alone for an empty path.
fn qualified(table: &str, path: &str) -> String {
    if path.is_empty() {
        table.to_string()
    } else {
        format!("{table}.{path}")
    }
}

fn join_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// Extracts the key named in serde's "unknown field `x`, expected ..." message.
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest[..rest.find('`')?].to_string())
}

/// Extracts the key named in serde's "missing field `x`" message.
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest[..rest.find('`')?].to_string())
}

/// Extracts the valid keys serde lists after "expected" in an unknown-field message.
fn expected_fields(message: &str) -> Vec<String> {
    let Some((_, list)) = message.split_once(", expected ") else {
        return Vec::new();
    };
    list.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// Finds the key and value spans of a dotted settings path such as `expect.status` or
/// `headers[0]`. Keys may themselves contain dots, so the longest matching key wins.
fn find_path(table: &DeTable<'_>, path: &str) -> Option<(Range<usize>, Range<usize>)> {
    if path.is_empty() {
        return None;
    }
    let mut best: Option<(usize, Range<usize>, &Value<'_>, &str)> = None;
    for (key, value) in table.iter() {
        let name: &str = key.get_ref().as_ref();
        let Some(rest) = path.strip_prefix(name) else {
            continue;
        };
        let boundary = rest.is_empty() || rest.starts_with('.') || rest.starts_with('[');
        if boundary && best.as_ref().is_none_or(|(known, ..)| *known < name.len()) {
            best = Some((name.len(), key.span(), value, rest));
        }
    }
    let (_, key_span, value, rest) = best?;
    descend(key_span, value, rest)
}

fn descend(
    key_span: Range<usize>,
    value: &Value<'_>,
    rest: &str,
) -> Option<(Range<usize>, Range<usize>)> {
    if rest.is_empty() {
        return Some((key_span, value.span()));
    }
    if let Some(after) = rest.strip_prefix('[') {
        let close = after.find(']')?;
        let index: usize = after[..close].parse().ok()?;
        let DeValue::Array(array) = value.get_ref() else {
            return Some((key_span, value.span()));
        };
        let element = array.get(index)?;
        return descend(element.span(), element, &after[close + 1..]);
    }
    let rest = rest.strip_prefix('.')?;
    match value.get_ref() {
        DeValue::Table(table) => find_path(table, rest).or(Some((key_span, value.span()))),
        _ => Some((key_span, value.span())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_reference_of_each_source() {
        let cases = [
            (SecretSource::Env("ADMIN_TOKEN".into()), "\"$ADMIN_TOKEN\""),
            (
                SecretSource::File("~/.config/x/token".into()),
                "\"$(cat ~/.config/x/token)\"",
            ),
            (
                SecretSource::File("/run/secrets/my token".into()),
                "\"$(cat '/run/secrets/my token')\"",
            ),
            (
                SecretSource::File("~/it's".into()),
                "\"$(cat ~/'it'\\''s')\"",
            ),
            (SecretSource::Env("_x9".into()), "\"$_x9\""),
            (
                SecretSource::Env("MY-TOKEN".into()),
                "\"$(printenv 'MY-TOKEN')\"",
            ),
            (SecretSource::Env("1X".into()), "\"$(printenv '1X')\""),
            (SecretSource::Env("-n".into()), "\"$(printenv -- '-n')\""),
            (
                SecretSource::Env("T\"$(touch pwned)\"".into()),
                "\"$(printenv 'T\"$(touch pwned)\"')\"",
            ),
            (
                SecretSource::Env("it's".into()),
                "\"$(printenv 'it'\\''s')\"",
            ),
            (SecretSource::File("-x".into()), "\"$(cat ./-x)\""),
            (SecretSource::File("~".into()), "\"$(cat ~)\""),
            (SecretSource::File("".into()), "\"$(cat '')\""),
            (
                SecretSource::File("$(touch pwned)".into()),
                "\"$(cat '$(touch pwned)')\"",
            ),
        ];
        for (source, expected) in cases {
            assert_eq!(shell_reference(&source), expected, "{source:?}");
        }
    }

    #[test]
    fn portable_env_names() {
        for name in ["A", "_", "ADMIN_TOKEN", "a1_b2", "_9"] {
            assert!(is_portable_env_name(name), "{name}");
        }
        for name in ["", "1X", "MY-TOKEN", "A B", "A=B", "T\"$(x)\"", "É", "A\n"] {
            assert!(!is_portable_env_name(name), "{name:?}");
        }
    }

    /// Names and file names that break a shell word unless they are quoted.
    const NASTY: &[&str] = &[
        "it's",
        "\"dq\"",
        "$(touch pwned)",
        "`touch pwned`",
        "; touch pwned",
        "| touch pwned",
        "& touch pwned &",
        "a\nb; touch pwned",
        "back\\slash\\",
        "$HOME ${HOME} $$",
        "'; touch pwned; '",
        "\"$(touch pwned)\"",
        "* ? [a]",
        "-n",
        "生 é ✓",
        ")",
    ];

    /// Runs `printf %s REFERENCE` in `shell` with the given environment, inside `work`.
    fn expand_in_shell(
        shell: &str,
        reference: &str,
        home: &Path,
        work: &Path,
        env: &[(String, String)],
    ) -> std::process::Output {
        std::process::Command::new(shell)
            .arg("-c")
            .arg(format!("printf %s {reference}"))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", home)
            .envs(env.iter().map(|(name, value)| (name, value)))
            .current_dir(work)
            .output()
            .unwrap()
    }

    #[test]
    fn shell_reference_expands_to_secret() {
        let temp = tempfile::tempdir().unwrap();
        let home = temp.path().join("home");
        let work = temp.path().join("work");
        std::fs::create_dir(&home).unwrap();
        std::fs::create_dir(&work).unwrap();
        for (index, nasty) in NASTY.iter().enumerate() {
            let value = format!("value {index}: {nasty}");
            // dash drops variables with names it cannot expand, so those need bash.
            let mut sources = vec![(SecretSource::Env(nasty.to_string()), &["bash"][..])];
            let file_name = nasty.replace('/', "_");
            std::fs::write(home.join(&file_name), format!("{value}\n")).unwrap();
            sources.push((
                SecretSource::File(format!("~/{file_name}")),
                &["sh", "bash"],
            ));
            let absolute = home.join(&file_name).to_string_lossy().to_string();
            sources.push((SecretSource::File(absolute), &["sh", "bash"]));
            let env = vec![(nasty.to_string(), value.clone())];
            for (source, shells) in sources {
                let reference = shell_reference(&source);
                for shell in shells {
                    let output = expand_in_shell(shell, &reference, &home, &work, &env);
                    let stderr = String::from_utf8_lossy(&output.stderr);
                    assert!(output.status.success(), "{shell} {reference}: {stderr}");
                    assert_eq!(
                        String::from_utf8_lossy(&output.stdout),
                        value,
                        "{shell} {reference}"
                    );
                    let created = std::fs::read_dir(&work).unwrap().count();
                    assert_eq!(created, 0, "{shell} {reference} created a file");
                }
            }
        }
    }
}
