//! Implementations of the subcommands, one module each, and what they share.

pub mod check;
pub mod demo;
pub mod export;
pub mod journal;
pub mod lint;
pub mod open;
pub mod verify;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use golive::checklist::Checklist;
use golive::checklist::diagnostic::{Diagnostic, render_diagnostics};
use golive::checklist::loader::{self, LoadDefaults};
use golive::config::Settings;

use crate::{ChecklistArgs, ConfigArgs};

/// Writes to standard output, ignoring a closed pipe (`golive check | head`): the reader has
/// what it wanted, and a panic there would turn a good run into exit code 101.
pub fn print_stdout(text: &str) {
    use std::io::Write;

    let _ = std::io::stdout().write_all(text.as_bytes());
    let _ = std::io::stdout().flush();
}

/// Writes to standard error, ignoring a closed pipe like [`print_stdout`].
pub fn print_stderr(text: &str) {
    use std::io::Write;

    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Prints diagnostics to standard error; prints nothing when there are none.
pub fn print_diagnostics(diagnostics: &[Diagnostic], source_text: &str) {
    if !diagnostics.is_empty() {
        let rendered = render_diagnostics(diagnostics, source_text);
        print_stderr(&format!("{}\n", rendered.trim_end()));
    }
}

/// Returns `count` and the noun, in the plural unless the count is one.
pub fn plural(count: usize, singular: &str, plural: &str) -> String {
    golive::plural(u64::try_from(count).unwrap_or(u64::MAX), singular, plural)
}

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
            print_diagnostics(&loaded.warnings, &loaded.source_text);
            let mut checklist = loaded.checklist;
            if let Some(profile) = settings.aws.profiles.get(&checklist.environment) {
                let changed = golive::checks::aws::use_profile(&mut checklist, profile);
                tracing::info!(
                    environment = %checklist.environment,
                    profile,
                    changed,
                    "AWS checks use the profile of config.toml"
                );
            }
            Ok(Arc::new(checklist))
        }
        Err(failure) => {
            print_stderr(&format!("{}\n", failure.to_string().trim_end()));
            bail!(
                "{} cannot be used until the errors above are fixed",
                golive::sanitize::terminal_safe(&path.display().to_string())
            )
        }
    }
}

/// The actor recorded with manual events: `--as`, else config.toml's identity. With neither,
/// the login name is used and a warning names it, so that nobody is recorded silently.
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
    let login = ["USER", "LOGNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
        .unwrap_or_else(|| "unknown".into());
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
