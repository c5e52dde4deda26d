//! SARIF 2.1.0: `runs[]`, each with `tool.driver.rules[]`, `results[]` and `invocations[]`.
//!
//! A result's severity comes from the `security-severity` property (of the result, else of
//! its rule) as GitHub code scanning reads it: 9.0 and above is critical, 7.0 high, 4.0
//! medium, above 0 low. Without it, the result's `level` (else the rule's
//! `defaultConfiguration.level`, else `warning` as SARIF defines) maps error to high, warning
//! to medium, note to low and none to info. Results whose `kind` is not `fail`, and results
//! with a suppression that is not rejected, are counted as dismissed.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::model::{Finding, ParseContext, Severity};
use super::zap::Scalar;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Tool {
    #[serde(default)]
    driver: ToolComponent,
    #[serde(default)]
    extensions: Vec<ToolComponent>,
}

#[derive(Debug, Default, Deserialize)]
struct ToolComponent {
    #[serde(default)]
    name: String,
    #[serde(default)]
    rules: Vec<Rule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    #[serde(default)]
    id: String,
    name: Option<String>,
    short_description: Option<Message>,
    default_configuration: Option<Configuration>,
    #[serde(default)]
    properties: Properties,
}

#[derive(Debug, Default, Deserialize)]
struct Message {
    text: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Configuration {
    level: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Properties {
    #[serde(rename = "security-severity")]
    security_severity: Option<Scalar>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: Option<String>,
    rule_index: Option<usize>,
    rule: Option<RuleReference>,
    level: Option<String>,
    kind: Option<String>,
    message: Option<Message>,
    #[serde(default)]
    locations: Vec<Location>,
    suppressions: Option<Vec<Suppression>>,
    #[serde(default)]
    properties: Properties,
}

#[derive(Debug, Default, Deserialize)]
struct RuleReference {
    id: Option<String>,
    index: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: Option<PhysicalLocation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: Option<ArtifactLocation>,
    region: Option<Region>,
}

#[derive(Debug, Default, Deserialize)]
struct ArtifactLocation {
    uri: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct Suppression {
    status: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    end_time_utc: Option<String>,
}

/// The parts of a rule that its results need.
struct RuleInfo {
    id: String,
    title: Option<String>,
    security_severity: Option<f64>,
    default_level: Option<String>,
}

/// The rules of one run, by id and by index into `tool.driver.rules`.
#[derive(Default)]
struct Rules {
    by_id: HashMap<String, usize>,
    list: Vec<RuleInfo>,
    driver_count: usize,
}

impl Rules {
    fn from_tool(tool: Tool) -> Self {
        let mut rules = Rules {
            driver_count: tool.driver.rules.len(),
            ..Rules::default()
        };
        let components = std::iter::once(tool.driver).chain(tool.extensions);
        for rule in components.flat_map(|component| component.rules) {
            let title = rule
                .short_description
                .and_then(|message| message.text)
                .or(rule.name);
            let info = RuleInfo {
                id: rule.id.clone(),
                title,
                security_severity: parse_score(rule.properties.security_severity.as_ref()),
                default_level: rule.default_configuration.and_then(|config| config.level),
            };
            rules.by_id.entry(rule.id).or_insert(rules.list.len());
            rules.list.push(info);
        }
        rules
    }

    fn find(&self, id: Option<&str>, index: Option<usize>) -> Option<&RuleInfo> {
        if let Some(position) = id.and_then(|id| self.by_id.get(id)) {
            return self.list.get(*position);
        }
        // `ruleIndex` points into `tool.driver.rules`, which come first in `list`.
        index
            .filter(|index| *index < self.driver_count)
            .and_then(|index| self.list.get(index))
    }
}

fn parse_score(value: Option<&Scalar>) -> Option<f64> {
    value.and_then(|scalar| scalar.0.trim().parse::<f64>().ok())
}

/// Maps a `security-severity` score to a severity.
pub fn severity_from_score(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Info
    }
}

/// Maps a SARIF `level` to a severity.
pub fn severity_from_level(level: &str) -> Option<Severity> {
    match level {
        "error" => Some(Severity::High),
        "warning" => Some(Severity::Medium),
        "note" => Some(Severity::Low),
        "none" => Some(Severity::Info),
        _ => None,
    }
}

/// Reads the `runs` array.
pub(crate) struct RunsSeed<'a, 'b> {
    pub ctx: &'a mut ParseContext<'b>,
}

impl<'de> DeserializeSeed<'de> for RunsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RunsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of runs")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(RunSeed { ctx: self.ctx })?.is_some() {}
        Ok(())
    }
}

struct RunSeed<'a, 'b> {
    ctx: &'a mut ParseContext<'b>,
}

impl<'de> DeserializeSeed<'de> for RunSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RunSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a run object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut rules: Option<Rules> = None;
        // NOTE: results written before `tool` are held until the run ends, because their
        // severity may come from rules not read yet; SARIF writers put `tool` first.
        let mut pending: Vec<SarifResult> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "tool" => {
                    let tool: Tool = map.next_value()?;
                    if !tool.driver.name.is_empty() {
                        self.ctx.meta.observe_tool(&tool.driver.name);
                    }
                    rules = Some(Rules::from_tool(tool));
                }
                "results" => map.next_value_seed(ResultsSeed {
                    ctx: &mut *self.ctx,
                    rules: rules.as_ref(),
                    pending: &mut pending,
                })?,
                "invocations" => {
                    let invocations: Vec<Invocation> = map.next_value()?;
                    for time in invocations
                        .iter()
                        .filter_map(|invocation| invocation.end_time_utc.as_deref())
                        .filter_map(super::model::parse_timestamp)
                    {
                        self.ctx.meta.observe_time(time);
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let rules = rules.unwrap_or_default();
        for result in pending {
            accept(self.ctx, &rules, result);
        }
        Ok(())
    }
}

struct ResultsSeed<'a, 'b, 'r> {
    ctx: &'a mut ParseContext<'b>,
    rules: Option<&'r Rules>,
    pending: &'a mut Vec<SarifResult>,
}

impl<'de> DeserializeSeed<'de> for ResultsSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ResultsSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of results")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(result) = seq.next_element::<SarifResult>()? {
            match self.rules {
                Some(rules) => accept(self.ctx, rules, result),
                None => self.pending.push(result),
            }
            if self.ctx.cancelled() {
                return Err(de::Error::custom(super::model::CANCELLED_MESSAGE));
            }
        }
        Ok(())
    }
}

fn is_dismissed(result: &SarifResult) -> bool {
    if result.kind.as_deref().is_some_and(|kind| kind != "fail") {
        return true;
    }
    // A suppression without a status is taken as accepted.
    result.suppressions.as_ref().is_some_and(|list| {
        list.iter()
            .any(|suppression| suppression.status.as_deref().unwrap_or("accepted") == "accepted")
    })
}

fn accept(ctx: &mut ParseContext<'_>, rules: &Rules, result: SarifResult) {
    if is_dismissed(&result) {
        ctx.meta.dismissed += 1;
        return;
    }
    let reference = result.rule.as_ref();
    let rule_id = result
        .rule_id
        .clone()
        .or_else(|| reference.and_then(|rule| rule.id.clone()));
    let rule_index = result
        .rule_index
        .or_else(|| reference.and_then(|rule| rule.index));
    let rule = rules.find(rule_id.as_deref(), rule_index);
    let score = parse_score(result.properties.security_severity.as_ref())
        .or_else(|| rule.and_then(|rule| rule.security_severity));
    let level = result
        .level
        .clone()
        .or_else(|| rule.and_then(|rule| rule.default_level.clone()))
        .unwrap_or_else(|| "warning".to_string());
    let rule_id = rule_id
        .or_else(|| rule.map(|rule| rule.id.clone()))
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| match rule_index {
            Some(index) => format!("rule-{index}"),
            None => "unknown".to_string(),
        });
    let severity = match score {
        Some(score) => severity_from_score(score),
        None => severity_from_level(&level).unwrap_or_else(|| {
            ctx.meta.warn(format!(
                "SARIF result of {rule_id} has invalid level `{level}`; counted as high"
            ));
            Severity::High
        }),
    };
    let title = rule
        .and_then(|rule| rule.title.clone())
        .or_else(|| result.message.and_then(|message| message.text))
        .unwrap_or_else(|| rule_id.clone());
    let location = result
        .locations
        .into_iter()
        .find_map(|location| location.physical_location)
        .map(|physical| {
            let uri = physical
                .artifact_location
                .and_then(|artifact| artifact.uri)
                .unwrap_or_default();
            match physical.region.and_then(|region| region.start_line) {
                Some(line) => format!("{uri}:{line}"),
                None => uri,
            }
        })
        .unwrap_or_default();
    ctx.emit(Finding {
        rule_id,
        title,
        severity,
        location,
    });
}
