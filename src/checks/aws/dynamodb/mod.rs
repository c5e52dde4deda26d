//! The DynamoDB check kinds: `dynamodb_table` (a table's status, backups, encryption, billing
//! mode and indexes), `dynamodb_item` (attributes of one item read by its key) and
//! `dynamodb_count` (the number of items a scan or query matches).

mod count;
mod item;
mod table;

pub use count::{COUNT_CHECK_KEYS, COUNT_EXPECT_KEYS, CountCheck};
pub use item::{ITEM_CHECK_KEYS, ITEM_EXPECT_KEYS, ItemCheck};
pub use table::{BillingModeSetting, TABLE_CHECK_KEYS, TABLE_EXPECT_KEYS, TableCheck, TableExpect};

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Deserialize;

use super::shown_text;
use crate::redact::Redactor;

/// An attribute value as written in the checklist: a string, a number or a boolean.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum AttributeSetting {
    Bool(bool),
    Integer(i64),
    Float(f64),
    String(String),
}

impl AttributeSetting {
    /// Converts the value to DynamoDB's type: `S` for strings, `N` for numbers, `BOOL`.
    pub fn to_attribute_value(&self) -> AttributeValue {
        match self {
            AttributeSetting::Bool(value) => AttributeValue::Bool(*value),
            AttributeSetting::Integer(value) => AttributeValue::N(value.to_string()),
            AttributeSetting::Float(value) => AttributeValue::N(value.to_string()),
            AttributeSetting::String(value) => AttributeValue::S(value.clone()),
        }
    }

    /// Returns whether a stored value equals this one; numbers compare by value, so `N "1.0"`
    /// equals `1`.
    fn matches(&self, actual: &AttributeValue) -> bool {
        match (self, actual) {
            (AttributeSetting::Bool(expected), AttributeValue::Bool(value)) => expected == value,
            (AttributeSetting::String(expected), AttributeValue::S(value)) => expected == value,
            (AttributeSetting::Integer(expected), AttributeValue::N(value)) => {
                match value.trim().parse::<i128>() {
                    Ok(stored) => stored == i128::from(*expected),
                    // A decimal form such as "1.0" or "1e3" compares by value, but only where
                    // f64 represents both numbers exactly, because above 2^53 neighbours round
                    // together.
                    Err(_) => parse_number(value).is_some_and(|stored| {
                        stored.abs() < MAX_EXACT_F64
                            && expected.unsigned_abs() < MAX_EXACT_F64 as u64
                            && stored == *expected as f64
                    }),
                }
            }
            (AttributeSetting::Float(expected), AttributeValue::N(value)) => {
                parse_number(value) == Some(*expected)
            }
            _ => false,
        }
    }

    fn shown(&self, redactor: &Redactor) -> String {
        match self {
            AttributeSetting::Bool(value) => value.to_string(),
            AttributeSetting::Integer(value) => value.to_string(),
            AttributeSetting::Float(value) => value.to_string(),
            AttributeSetting::String(value) => format!("\"{}\"", shown_text(value, redactor)),
        }
    }
}

/// 2^53: f64 represents every integer below it exactly, and rounds neighbours together above it.
const MAX_EXACT_F64: f64 = 9_007_199_254_740_992.0;

fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok()
}

/// Returns a stored attribute value for evidence: strings, numbers and booleans as values,
/// other types by their type name only.
fn shown_attribute(value: &AttributeValue, redactor: &Redactor) -> String {
    match value {
        AttributeValue::S(text) => format!("\"{}\"", shown_text(text, redactor)),
        AttributeValue::N(number) => shown_text(number, redactor),
        AttributeValue::Bool(flag) => flag.to_string(),
        AttributeValue::Null(_) => "null".into(),
        AttributeValue::B(_) => "a binary value".into(),
        AttributeValue::L(_) => "a list".into(),
        AttributeValue::M(_) => "a map".into(),
        AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_) => "a set".into(),
        _ => "a value of an unknown type".into(),
    }
}

fn table_name<E: serde::de::Error>(name: String) -> Result<String, E> {
    if name.trim().is_empty() {
        return Err(E::custom("`table` is empty"));
    }
    Ok(name)
}

fn table_resource(table: &str) -> String {
    format!("table {table}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> AttributeValue {
        AttributeValue::N(text.into())
    }

    #[test]
    fn large_integers_compare_exactly() {
        let expected = AttributeSetting::Integer(9_007_199_254_740_992);
        assert!(expected.matches(&number("9007199254740992")));
        assert!(!expected.matches(&number("9007199254740993")));
    }

    #[test]
    fn decimal_form_of_small_integer_matches() {
        let expected = AttributeSetting::Integer(7);
        assert!(expected.matches(&number("7.0")));
        assert!(expected.matches(&number(" 7 ")));
        assert!(!expected.matches(&number("7.5")));
    }

    #[test]
    fn decimal_form_beyond_exact_range_does_not_match() {
        let expected = AttributeSetting::Integer(9_007_199_254_740_992);
        assert!(!expected.matches(&number("9007199254740993.0")));
    }
}
