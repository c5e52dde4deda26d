//! The `lambda_functions` check kind: Lambda functions that must be deployed, with their
//! runtime, state and the names of their environment variables.
//!
//! The functions are named in `names` or selected by `prefix`. Either way one paginated
//! ListFunctions call reads them all, so a list of names costs no more calls than one name.
//!
//! Environment variable values are never kept or shown: ListFunctions returns them, and the
//! check copies only their names out of the response before it drops it.

use std::collections::BTreeSet;

use aws_sdk_lambda::types::{FunctionConfiguration, Runtime, State};
use serde::Deserialize;

use super::{
    AwsTarget, CallContext, RawTarget, client, error_probe, exists_assertion, shown_text,
    target_from_raw,
};
use crate::checks::{
    Assertion, Evidence, EvidenceCell, EvidenceRow, EvidenceTable, Probe, ProbeContext,
};
use crate::redact::Redactor;

/// Keys of the kind's `check` table besides `kind`, `timeout`, `retries` and `interval`.
pub const CHECK_KEYS: &[&str] = &[
    "region",
    "profile",
    "endpoint_url",
    "names",
    "prefix",
    "expect",
];
/// Keys of the kind's `expect` table.
pub const EXPECT_KEYS: &[&str] = &["min_count", "count", "env_vars", "runtime", "state"];

/// Settings of a `lambda_functions` check.
#[derive(Debug, Clone)]
pub struct FunctionsCheck {
    pub target: AwsTarget,
    pub selection: FunctionSelection,
    pub expect: FunctionsExpect,
}

/// The selection of functions a check inspects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionSelection {
    /// Exactly these functions, each of which must exist.
    Names(Vec<String>),
    /// Every function whose name starts with the prefix, in the number the count requires.
    Prefix { prefix: String, count: CountRule },
}

/// The number of functions a prefix must select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountRule {
    AtLeast(u32),
    Exactly(u32),
}

impl CountRule {
    fn expected_text(self) -> String {
        match self {
            CountRule::AtLeast(min) => format!("at least {min}"),
            CountRule::Exactly(count) => format!("exactly {count}"),
        }
    }

    fn accepts(self, found: usize) -> bool {
        match self {
            CountRule::AtLeast(min) => found >= min as usize,
            CountRule::Exactly(count) => found == count as usize,
        }
    }
}

/// Expectations each selected function must meet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionsExpect {
    /// Names of environment variables each function must have set. Values are never read.
    pub env_vars: Vec<String>,
    /// Required runtime identifier, such as `nodejs20.x`.
    pub runtime: Option<String>,
    pub state: Option<FunctionStateSetting>,
}

/// A Lambda function state as written in the checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum FunctionStateSetting {
    Active,
    Pending,
    Inactive,
    Failed,
}

impl FunctionStateSetting {
    fn as_str(self) -> &'static str {
        match self {
            FunctionStateSetting::Active => "Active",
            FunctionStateSetting::Pending => "Pending",
            FunctionStateSetting::Inactive => "Inactive",
            FunctionStateSetting::Failed => "Failed",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFunctionsExpect {
    #[serde(default)]
    min_count: Option<u32>,
    #[serde(default)]
    count: Option<u32>,
    #[serde(default)]
    env_vars: Vec<String>,
    #[serde(default)]
    runtime: Option<String>,
    #[serde(default)]
    state: Option<FunctionStateSetting>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFunctionsCheck {
    region: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    endpoint_url: Option<String>,
    #[serde(default)]
    names: Option<Vec<String>>,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    expect: Option<RawFunctionsExpect>,
}

impl<'de> Deserialize<'de> for FunctionsCheck {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        let raw = RawFunctionsCheck::deserialize(deserializer)?;
        let target = target_from_raw(RawTarget {
            region: raw.region,
            profile: raw.profile,
            endpoint_url: raw.endpoint_url,
        })?;
        let expect = raw.expect.unwrap_or(RawFunctionsExpect {
            min_count: None,
            count: None,
            env_vars: Vec::new(),
            runtime: None,
            state: None,
        });
        let selection = match (raw.names, raw.prefix) {
            (Some(_), Some(_)) => {
                return Err(D::Error::custom("set either `names` or `prefix`, not both"));
            }
            (None, None) => return Err(D::Error::custom("missing `names` or `prefix`")),
            (Some(names), None) => {
                if names.is_empty() {
                    return Err(D::Error::custom(
                        "`names` is empty; list at least one function",
                    ));
                }
                if names.iter().any(|name| name.trim().is_empty()) {
                    return Err(D::Error::custom("`names` contains an empty function name"));
                }
                if expect.min_count.is_some() || expect.count.is_some() {
                    return Err(D::Error::custom(
                        "`expect.min_count` and `expect.count` apply to `prefix`; with `names` \
                         every listed function must exist, so remove them",
                    ));
                }
                FunctionSelection::Names(names.iter().map(|name| name.trim().into()).collect())
            }
            (None, Some(prefix)) => {
                if prefix.trim().is_empty() {
                    return Err(D::Error::custom("`prefix` is empty"));
                }
                let count = match (expect.min_count, expect.count) {
                    (Some(_), Some(_)) => {
                        return Err(D::Error::custom(
                            "set either `expect.min_count` or `expect.count`, not both",
                        ));
                    }
                    (Some(min), None) => CountRule::AtLeast(min),
                    (None, Some(count)) => CountRule::Exactly(count),
                    (None, None) => CountRule::AtLeast(1),
                };
                FunctionSelection::Prefix {
                    prefix: prefix.trim().into(),
                    count,
                }
            }
        };
        if expect.env_vars.iter().any(|name| name.trim().is_empty()) {
            return Err(D::Error::custom(
                "`expect.env_vars` contains an empty variable name",
            ));
        }
        if expect
            .runtime
            .as_ref()
            .is_some_and(|runtime| runtime.trim().is_empty())
        {
            return Err(D::Error::custom(
                "`expect.runtime` is empty; set a runtime such as \"nodejs20.x\" or remove it",
            ));
        }
        Ok(FunctionsCheck {
            target,
            selection,
            expect: FunctionsExpect {
                env_vars: expect
                    .env_vars
                    .iter()
                    .map(|name| name.trim().into())
                    .collect(),
                runtime: expect.runtime.map(|runtime| runtime.trim().into()),
                state: expect.state,
            },
        })
    }
}

/// The fields of a function that the check inspects, with environment variable names only.
#[derive(Debug, Clone)]
struct FunctionView {
    name: String,
    runtime: Option<String>,
    state: Option<String>,
    last_modified: Option<String>,
    env_var_names: BTreeSet<String>,
}

impl FunctionView {
    fn from_configuration(function: &FunctionConfiguration) -> Self {
        // Only the keys of `Environment.Variables` are copied: the values may be secrets.
        let env_var_names = function
            .environment()
            .and_then(|environment| environment.variables())
            .map(|variables| variables.keys().cloned().collect())
            .unwrap_or_default();
        FunctionView {
            name: function.function_name().unwrap_or_default().to_string(),
            runtime: function
                .runtime()
                .map(|runtime| Runtime::as_str(runtime).into()),
            state: function.state().map(|state| State::as_str(state).into()),
            last_modified: function.last_modified().map(str::to_string),
            env_var_names,
        }
    }
}

impl FunctionsCheck {
    /// Lists the functions of the region and compares the selected ones with the expectations.
    pub async fn run(&self, ctx: &ProbeContext) -> Probe {
        let client = client::lambda(&self.target, ctx.timeout).await;
        let resource = match &self.selection {
            FunctionSelection::Names(names) => format!("functions {}", names.join(", ")),
            FunctionSelection::Prefix { prefix, .. } => format!("functions with prefix {prefix}"),
        };
        let call = CallContext {
            service: "Lambda",
            operation: "ListFunctions",
            resource: &resource,
            target: &self.target,
        };
        let functions = match self.list_functions(&client).await {
            Ok(functions) => functions,
            Err(err) => return error_probe(&err, call),
        };
        self.evaluate(&functions, &ctx.redactor)
    }

    /// Returns the selected functions, following every page of ListFunctions.
    async fn list_functions(
        &self,
        client: &aws_sdk_lambda::Client,
    ) -> Result<
        Vec<FunctionView>,
        aws_sdk_lambda::error::SdkError<
            aws_sdk_lambda::operation::list_functions::ListFunctionsError,
        >,
    > {
        let mut selected = Vec::new();
        let mut pages = client.list_functions().into_paginator().send();
        while let Some(page) = pages.next().await {
            for function in page?.functions() {
                let name = function.function_name().unwrap_or_default();
                let is_selected = match &self.selection {
                    FunctionSelection::Names(names) => names.iter().any(|listed| listed == name),
                    FunctionSelection::Prefix { prefix, .. } => name.starts_with(prefix.as_str()),
                };
                if is_selected {
                    selected.push(FunctionView::from_configuration(function));
                }
            }
        }
        selected.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(selected)
    }

    fn evaluate(&self, functions: &[FunctionView], redactor: &Redactor) -> Probe {
        let mut evidence = Evidence::default();
        evidence
            .request
            .push(format!("Lambda ListFunctions in {}", self.target));
        match &self.selection {
            FunctionSelection::Names(names) => {
                for name in names {
                    let found = functions.iter().any(|function| &function.name == name);
                    evidence
                        .assertions
                        .push(exists_assertion("function", name, found, redactor));
                }
            }
            FunctionSelection::Prefix { prefix, count } => {
                evidence.assertions.push(Assertion {
                    subject: format!("functions with prefix {}", shown_text(prefix, redactor)),
                    expected: count.expected_text(),
                    actual: functions.len().to_string(),
                    passed: count.accepts(functions.len()),
                });
            }
        }

        let mut table = EvidenceTable {
            title: "functions".into(),
            columns: vec![
                "runtime".into(),
                "state".into(),
                "last modified".into(),
                "env vars set".into(),
                "env vars missing".into(),
            ],
            rows: Vec::new(),
        };
        for function in functions {
            let (row, assertions) = self.evaluate_function(function, redactor);
            table.rows.push(row);
            evidence.assertions.extend(assertions);
        }
        evidence.tables.push(table);
        if !self.expect.env_vars.is_empty() {
            evidence
                .notes
                .push("environment variables are checked by name; values are not read".into());
        }
        Probe::from_assertions(evidence)
    }

    /// Returns the evidence row and the assertions of one function.
    fn evaluate_function(
        &self,
        function: &FunctionView,
        redactor: &Redactor,
    ) -> (EvidenceRow, Vec<Assertion>) {
        let name = shown_text(&function.name, redactor);
        let mut assertions = Vec::new();

        let runtime = function.runtime.as_deref().unwrap_or("not reported");
        let runtime_passed = self
            .expect
            .runtime
            .as_ref()
            .map(|expected| function.runtime.as_deref() == Some(expected.as_str()));
        if let (Some(expected), Some(passed)) = (&self.expect.runtime, runtime_passed) {
            assertions.push(Assertion {
                subject: format!("function {name} runtime"),
                expected: shown_text(expected, redactor),
                actual: shown_text(runtime, redactor),
                passed,
            });
        }

        let state = function.state.as_deref().unwrap_or("not reported");
        let state_passed = self
            .expect
            .state
            .map(|expected| function.state.as_deref() == Some(expected.as_str()));
        if let (Some(expected), Some(passed)) = (self.expect.state, state_passed) {
            assertions.push(Assertion {
                subject: format!("function {name} state"),
                expected: expected.as_str().into(),
                actual: shown_text(state, redactor),
                passed,
            });
        }

        let (set, missing): (Vec<&String>, Vec<&String>) = self
            .expect
            .env_vars
            .iter()
            .partition(|variable| function.env_var_names.contains(variable.as_str()));
        let set_text = names_text(&set, redactor);
        let missing_text = names_text(&missing, redactor);
        let env_passed = (!self.expect.env_vars.is_empty()).then_some(missing.is_empty());
        if let Some(passed) = env_passed {
            assertions.push(Assertion {
                subject: format!("function {name} env vars"),
                expected: format!("{} set", names_text(&self.expect.env_vars, redactor)),
                actual: if passed {
                    "all set".into()
                } else {
                    format!("{missing_text} missing")
                },
                passed,
            });
        }

        let row = EvidenceRow {
            label: name,
            cells: vec![
                EvidenceCell {
                    text: shown_text(runtime, redactor),
                    passed: runtime_passed,
                },
                EvidenceCell {
                    text: shown_text(state, redactor),
                    passed: state_passed,
                },
                EvidenceCell {
                    text: function
                        .last_modified
                        .as_deref()
                        .map_or_else(|| "not reported".into(), |time| shown_text(time, redactor)),
                    passed: None,
                },
                EvidenceCell {
                    text: set_text,
                    passed: None,
                },
                EvidenceCell {
                    text: missing_text,
                    passed: env_passed,
                },
            ],
        };
        (row, assertions)
    }

    /// Returns the settings as label/value lines for the detail pane.
    pub fn describe(&self, redactor: &Redactor) -> Vec<(String, String)> {
        let mut lines = self.target.describe();
        match &self.selection {
            FunctionSelection::Names(names) => {
                lines.push(("functions".into(), shown_text(&names.join(", "), redactor)));
            }
            FunctionSelection::Prefix { prefix, count } => {
                lines.push(("function prefix".into(), shown_text(prefix, redactor)));
                lines.push(("expect count".into(), count.expected_text()));
            }
        }
        if let Some(runtime) = &self.expect.runtime {
            lines.push(("expect runtime".into(), shown_text(runtime, redactor)));
        }
        if let Some(state) = self.expect.state {
            lines.push(("expect state".into(), state.as_str().into()));
        }
        if !self.expect.env_vars.is_empty() {
            lines.push((
                "expect env vars set".into(),
                names_text(&self.expect.env_vars, redactor),
            ));
        }
        lines
    }
}

/// Returns variable names joined by ", ", or "none" for an empty list.
fn names_text<S: AsRef<str>>(names: &[S], redactor: &Redactor) -> String {
    if names.is_empty() {
        return "none".into();
    }
    let joined = names
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ");
    shown_text(&joined, redactor)
}
