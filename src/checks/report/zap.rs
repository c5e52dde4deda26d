//! OWASP ZAP's traditional JSON report: `site[]` → `alerts[]` → `instances[]`.
//!
//! ZAP has no critical risk: riskcode 3 is high, 2 medium, 1 low and 0 informational, unless
//! `zap_high_as_critical` maps 3 to critical. An alert with confidence 0 is one that a person
//! marked a false positive in ZAP, so its instances are counted as dismissed, not as findings.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::model::{Finding, ParseContext, Severity, normalise_location};

/// A JSON scalar read as text: ZAP writes numbers as strings, other tools as numbers.
#[derive(Debug, Default)]
pub(crate) struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar::default())
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// Parses ZAP's `@generated` time, such as `Fri, 4 Feb 2022 13:04:51`.
// NOTE: the field has no time zone; it is the scanner's local time, taken here as UTC.
pub(crate) fn parse_generated(text: &str) -> Option<jiff::Timestamp> {
    let parsed = jiff::fmt::strtime::parse("%a, %d %b %Y %H:%M:%S", text.trim()).ok()?;
    let civil = parsed.to_datetime().ok()?;
    civil
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|zoned| zoned.timestamp())
}

/// Reads the `site` array.
pub(crate) struct SitesSeed<'a, 'b> {
    pub ctx: &'a mut ParseContext<'b>,
}

impl<'de> DeserializeSeed<'de> for SitesSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SitesSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of sites")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(SiteSeed { ctx: self.ctx })?.is_some() {}
        Ok(())
    }
}

struct SiteSeed<'a, 'b> {
    ctx: &'a mut ParseContext<'b>,
}

impl<'de> DeserializeSeed<'de> for SiteSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SiteSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a site object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut site_name = String::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "@name" => site_name = map.next_value::<Scalar>()?.0,
                "@host" => {
                    let host = map.next_value::<Scalar>()?.0;
                    self.ctx.meta.observe_host(&host);
                }
                "alerts" => map.next_value_seed(AlertsSeed {
                    ctx: self.ctx,
                    site_name: &site_name,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct AlertsSeed<'a, 'b, 's> {
    ctx: &'a mut ParseContext<'b>,
    site_name: &'s str,
}

impl<'de> DeserializeSeed<'de> for AlertsSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for AlertsSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of alerts")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            let alert = AlertSeed {
                ctx: &mut *self.ctx,
                site_name: self.site_name,
            };
            if seq.next_element_seed(alert)?.is_none() {
                return Ok(());
            }
            if self.ctx.cancelled() {
                return Err(de::Error::custom(super::model::CANCELLED_MESSAGE));
            }
        }
    }
}

/// The fields of one alert that every instance's finding needs.
#[derive(Default)]
struct AlertHeader {
    plugin_id: Option<String>,
    alert_ref: Option<String>,
    name: Option<String>,
    riskcode: Option<String>,
    confidence: Option<String>,
}

impl AlertHeader {
    /// Returns whether every field that instances need has been read, so they can be sent on as they
    /// stream past. ZAP writes these fields before `instances`.
    fn is_complete(&self) -> bool {
        (self.plugin_id.is_some() || self.alert_ref.is_some())
            && self.name.is_some()
            && self.riskcode.is_some()
            && self.confidence.is_some()
    }

    fn rule_id(&self) -> String {
        self.alert_ref
            .clone()
            .or_else(|| self.plugin_id.clone())
            .unwrap_or_else(|| "unknown".to_string())
    }

    fn is_false_positive(&self) -> bool {
        self.confidence.as_deref().map(str::trim) == Some("0")
    }
}

#[derive(Debug, Default, Deserialize)]
struct Instance {
    #[serde(default)]
    uri: Scalar,
    #[serde(default)]
    param: Scalar,
}

struct AlertSeed<'a, 'b, 's> {
    ctx: &'a mut ParseContext<'b>,
    site_name: &'s str,
}

impl AlertSeed<'_, '_, '_> {
    fn severity(&mut self, header: &AlertHeader) -> Severity {
        let riskcode = header.riskcode.as_deref().unwrap_or_default().trim();
        match riskcode {
            "3" if self.ctx.zap_high_as_critical => Severity::Critical,
            "3" => Severity::High,
            "2" => Severity::Medium,
            "1" => Severity::Low,
            "0" => Severity::Info,
            other => {
                // An unreadable risk must not hide a finding, so it counts as high.
                self.ctx.meta.warn(format!(
                    "ZAP alert {} has invalid riskcode `{other}`; counted as high",
                    header.rule_id()
                ));
                Severity::High
            }
        }
    }

    fn finding(&mut self, header: &AlertHeader, instance: &Instance) -> Finding {
        let mut location = normalise_location(&instance.uri.0);
        if location.is_empty() {
            location = normalise_location(self.site_name);
        }
        if !instance.param.0.is_empty() {
            location.push('#');
            location.push_str(&instance.param.0);
        }
        Finding {
            rule_id: header.rule_id(),
            title: header.name.clone().unwrap_or_default(),
            severity: self.severity(header),
            location,
        }
    }

    fn send(&mut self, header: &AlertHeader, instance: &Instance) {
        if header.is_false_positive() {
            self.ctx.meta.dismissed += 1;
            return;
        }
        let finding = self.finding(header, instance);
        self.ctx.emit(finding);
    }
}

impl<'de> DeserializeSeed<'de> for AlertSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for AlertSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an alert object")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut header = AlertHeader::default();
        // NOTE: instances that come before the alert's risk and confidence are held here
        // until the alert ends; ZAP itself writes them after, so this stays empty.
        let mut pending: Vec<Instance> = Vec::new();
        let mut instances_seen = 0u64;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "pluginid" => header.plugin_id = Some(map.next_value::<Scalar>()?.0),
                "alertRef" => header.alert_ref = Some(map.next_value::<Scalar>()?.0),
                "name" => header.name = Some(map.next_value::<Scalar>()?.0),
                "alert" if header.name.is_none() => {
                    header.name = Some(map.next_value::<Scalar>()?.0)
                }
                "riskcode" => header.riskcode = Some(map.next_value::<Scalar>()?.0),
                "confidence" => header.confidence = Some(map.next_value::<Scalar>()?.0),
                "instances" => {
                    let seed = InstancesSeed {
                        alert: &mut self,
                        header: &header,
                        pending: &mut pending,
                        seen: &mut instances_seen,
                    };
                    map.next_value_seed(seed)?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if header.confidence.is_none() {
            header.confidence = Some(String::new());
        }
        for instance in &pending {
            self.send(&header, instance);
        }
        // An alert without instances still is one finding, located at its site.
        if instances_seen == 0 {
            self.send(&header, &Instance::default());
        }
        Ok(())
    }
}

struct InstancesSeed<'a, 'x, 'b, 's> {
    alert: &'a mut AlertSeed<'x, 'b, 's>,
    header: &'a AlertHeader,
    pending: &'a mut Vec<Instance>,
    seen: &'a mut u64,
}

impl<'de> DeserializeSeed<'de> for InstancesSeed<'_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for InstancesSeed<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of instances")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let ready = self.header.is_complete();
        while let Some(instance) = seq.next_element::<Instance>()? {
            *self.seen += 1;
            if ready {
                self.alert.send(self.header, &instance);
            } else {
                self.pending.push(instance);
            }
        }
        Ok(())
    }
}
