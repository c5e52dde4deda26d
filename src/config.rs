//! User settings from `config.toml`: identity, theme, engine limits, journal and log locations,
//! and AWS profiles.
//!
//! Applied in this order, each file overriding the keys it sets: the documented defaults,
//! `$XDG_CONFIG_HOME/golive/config.toml` (usually `~/.config/golive/config.toml`),
//! `./config.toml`, then `--config PATH`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// All user settings.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub identity: Identity,
    pub ui: UiSettings,
    pub engine: EngineSettings,
    pub paths: Paths,
    pub aws: AwsSettings,
    /// The last settings file applied; `None` when the defaults apply.
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// Every settings file applied, in order.
    #[serde(skip)]
    pub sources: Vec<PathBuf>,
}

/// The person at the keyboard, recorded with every manual event.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Identity {
    pub name: String,
    pub email: String,
    /// The ed25519 OpenSSH private key that signs launch records; a leading `~` means the home
    /// folder.
    pub signing_key: Option<PathBuf>,
}

/// Settings of the terminal interface.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct UiSettings {
    /// Theme name (a file `themes/NAME.toml`) or a path to a theme file.
    pub theme: String,
    /// Redraw period of the clocks, in milliseconds.
    pub tick_ms: u64,
}

/// Limits of the check engine.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSettings {
    /// Maximum number of checks in flight at once, from 1 to [`MAX_CONCURRENCY`].
    #[serde(deserialize_with = "deserialize_concurrency")]
    pub concurrency: usize,
    /// Timeout of one check attempt when the item sets none, above zero and at most the
    /// checklist's own limit.
    #[serde(deserialize_with = "deserialize_timeout")]
    pub timeout: Duration,
    /// Maximum number of response body bytes a check reads.
    pub body_limit: usize,
}

/// Settings of the AWS checks on this machine.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AwsSettings {
    /// Environment name → the AWS profile every AWS check of that environment uses instead of
    /// the checklist's, so that each person keeps their own profile names out of the shared
    /// checklist.
    pub profiles: std::collections::BTreeMap<String, String>,
}

/// Locations of the files golive writes.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Paths {
    /// Folder of session journals; default `$XDG_DATA_HOME/golive/journals`.
    pub journal_dir: Option<PathBuf>,
    /// Log file; default `$XDG_STATE_HOME/golive/golive.log`.
    pub log_file: Option<PathBuf>,
}

impl Default for UiSettings {
    fn default() -> Self {
        UiSettings {
            theme: "dark".into(),
            tick_ms: 1000,
        }
    }
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            concurrency: 32,
            timeout: Duration::from_secs(10),
            body_limit: 64 * 1024,
        }
    }
}

/// Largest accepted `engine.concurrency`; more checks in flight than this only exhausts file
/// descriptors and the target's patience.
pub const MAX_CONCURRENCY: usize = 4096;

fn deserialize_concurrency<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<usize, D::Error> {
    let value = i64::deserialize(deserializer)?;
    match usize::try_from(value) {
        Ok(concurrency @ 1..=MAX_CONCURRENCY) => Ok(concurrency),
        _ => Err(serde::de::Error::custom(format!(
            "invalid engine.concurrency {value}: write a number from 1 to {MAX_CONCURRENCY}"
        ))),
    }
}

fn deserialize_timeout<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    let timeout = crate::duration::serde_friendly::deserialize(deserializer)?;
    let max = crate::checklist::loader::MAX_TIMEOUT;
    if timeout.is_zero() || timeout > max {
        return Err(serde::de::Error::custom(format!(
            "invalid engine.timeout {}: write a duration above 0s and at most {}, such as \"10s\"",
            crate::duration::format_duration(timeout),
            crate::duration::format_duration(max)
        )));
    }
    Ok(timeout)
}

/// A settings file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read settings file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid settings file {path}:{line}:{column}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

impl Settings {
    /// Loads the settings: the defaults, overridden by `~/.config/golive/config.toml`, then by
    /// `./config.toml`, then by `explicit`. Each file overrides only the keys it sets, so a
    /// project's `config.toml` can set the theme while a person's own file sets their identity.
    pub fn load(explicit: Option<&Path>) -> Result<Settings, SettingsError> {
        let mut layers: Vec<PathBuf> = Self::candidates()
            .into_iter()
            .filter(|path| path.is_file())
            .collect();
        if let Some(path) = explicit {
            // An explicit file must exist: a typo in --config must not fall back silently.
            layers.push(path.to_path_buf());
        }
        Self::load_layers(layers)
    }

    /// Loads the settings from these files, each overriding the keys it sets in the ones
    /// before it.
    pub fn load_layers(layers: Vec<PathBuf>) -> Result<Settings, SettingsError> {
        let mut merged = toml::Table::new();
        for path in &layers {
            let table = Self::read_layer(path)?;
            merge_tables(&mut merged, table);
        }
        let mut settings: Settings =
            toml::Value::Table(merged)
                .try_into()
                .map_err(|err: toml::de::Error| SettingsError::Invalid {
                    path: layers.last().cloned().unwrap_or_default(),
                    line: 1,
                    column: 1,
                    message: crate::checks::plain_type_names(err.message()),
                })?;
        settings.source = layers.last().cloned();
        settings.sources = layers;
        Ok(settings)
    }

    /// Reads one settings file and checks it on its own, so that an error names its file, line
    /// and column.
    fn read_layer(path: &Path) -> Result<toml::Table, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let invalid = |err: toml::de::Error| {
            let (line, column) = err
                .span()
                .map(|span| line_column(&text, span.start))
                .unwrap_or((1, 1));
            SettingsError::Invalid {
                path: path.to_path_buf(),
                line,
                column,
                message: crate::checks::plain_type_names(err.message()),
            }
        };
        toml::from_str::<Settings>(&text).map_err(invalid)?;
        toml::from_str::<toml::Table>(&text).map_err(invalid)
    }

    /// Settings files in the order they are applied, later ones overriding earlier ones.
    fn candidates() -> Vec<PathBuf> {
        let mut paths = Vec::new();
        if let Some(dir) = dirs::config_dir() {
            paths.push(dir.join("golive").join("config.toml"));
        }
        paths.push(PathBuf::from("config.toml"));
        paths
    }

    /// Returns the actor string for manual events: `name <email>`, or whichever part is set.
    pub fn actor(&self) -> Option<String> {
        let name = self.identity.name.trim();
        let email = self.identity.email.trim();
        match (name.is_empty(), email.is_empty()) {
            (false, false) => Some(format!("{name} <{email}>")),
            (false, true) => Some(name.to_string()),
            (true, false) => Some(email.to_string()),
            (true, true) => None,
        }
    }

    /// Returns the journal folder, defaulting to the XDG data folder.
    pub fn journal_dir(&self) -> PathBuf {
        let configured = self.paths.journal_dir.clone();
        // An empty path in config.toml means "not set", not the current folder.
        configured
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or_else(|| {
                dirs::data_dir()
                    .unwrap_or_else(|| PathBuf::from("."))
                    .join("golive")
                    .join("journals")
            })
    }

    /// Returns the log file, defaulting to the XDG state folder.
    pub fn log_file(&self) -> PathBuf {
        let configured = self.paths.log_file.clone();
        configured
            .filter(|file| !file.as_os_str().is_empty())
            .unwrap_or_else(|| {
                dirs::state_dir()
                    .or_else(dirs::data_local_dir)
                    .unwrap_or_else(|| PathBuf::from("."))
                    .join("golive")
                    .join("golive.log")
            })
    }
}

/// Merges `overlay` into `base`: tables merge key by key, any other value replaces.
fn merge_tables(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base_table)), toml::Value::Table(overlay_table)) => {
                merge_tables(base_table, overlay_table);
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Converts a byte offset into a 1-based line and column (columns count characters).
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}
