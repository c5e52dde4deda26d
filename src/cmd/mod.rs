//! Implementations of the subcommands, one module each, and what they share.

pub mod check;
pub mod demo;
pub mod lint;
pub mod open;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use golive::checklist::Checklist;
use golive::checklist::diagnostic::render_diagnostics;
use golive::checklist::loader::{self, LoadDefaults};
use golive::config::Settings;

use crate::{ChecklistArgs, ConfigArgs};

/// Parses a `--var NAME=VALUE` argument.
pub fn parse_var(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("invalid --var `{text}`: write it as NAME=VALUE"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!(
            "invalid --var `{text}`: the name before `=` is empty"
        ));
    }
    Ok((name.to_string(), value.to_string()))
}

/// Reads the settings named by `--config`, or from the usual places.
pub fn load_settings(args: &ConfigArgs) -> anyhow::Result<Settings> {
    Ok(Settings::load(args.config.as_deref())?)
}

/// Loads and resolves a checklist, printing warnings to standard error. On errors, prints every
/// diagnostic and fails.
pub fn load_checklist(args: &ChecklistArgs, settings: &Settings) -> anyhow::Result<Arc<Checklist>> {
    load_checklist_for(&args.checklist, args.env.as_deref(), &args.vars, settings)
}

/// Loads a checklist for one environment with the given variable overrides.
pub fn load_checklist_for(
    path: &Path,
    env: Option<&str>,
    vars: &[(String, String)],
    settings: &Settings,
) -> anyhow::Result<Arc<Checklist>> {
    let overrides: BTreeMap<String, String> = vars.iter().cloned().collect();
    let defaults = LoadDefaults {
        timeout: settings.engine.timeout,
    };
    match loader::load(path, env, &overrides, &defaults) {
        Ok(loaded) => {
            if !loaded.warnings.is_empty() {
                eprintln!(
                    "{}",
                    render_diagnostics(&loaded.warnings, &loaded.source_text).trim_end()
                );
            }
            Ok(Arc::new(loaded.checklist))
        }
        Err(failure) => {
            eprintln!("{}", failure.to_string().trim_end());
            bail!(
                "{} cannot be used until the errors above are fixed",
                path.display()
            )
        }
    }
}

/// The actor recorded with manual events: `--as`, else config.toml's identity. With neither,
/// the login name is used and a warning says so, so that nobody is recorded silently.
pub fn resolve_actor(
    flag: Option<String>,
    settings: &Settings,
    warnings: &mut Vec<String>,
) -> String {
    if let Some(actor) = flag.filter(|actor| !actor.trim().is_empty()) {
        return actor.trim().to_string();
    }
    if let Some(actor) = settings.actor() {
        return actor;
    }
    let login = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    warnings.push(format!(
        "no identity set: recording actions as `{login}`; set [identity] name and email in \
         config.toml or pass --as \"Name <email>\""
    ));
    login
}

/// Starts logging to the configured file; a log that cannot be opened becomes a warning.
pub fn start_logging(
    settings: &Settings,
    warnings: &mut Vec<String>,
) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    match golive::logging::init(&settings.log_file()) {
        Ok(guard) => Some(guard),
        Err(warning) => {
            warnings.push(format!("{warning}; running without a log file"));
            None
        }
    }
}

/// Builds the tokio runtime the commands run on.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
