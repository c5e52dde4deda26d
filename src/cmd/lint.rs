//! `golive lint`: loads a checklist for one or every environment and prints every problem.

use std::collections::BTreeMap;
use std::process::ExitCode;

use golive::checklist::loader::{self, LoadDefaults};
use golive::sanitize::terminal_safe;

use crate::LintArgs;

pub fn run(args: LintArgs) -> anyhow::Result<ExitCode> {
    let settings = super::load_settings(&args.config)?;
    let overrides: BTreeMap<String, String> = args.checklist.vars.iter().cloned().collect();
    let defaults = LoadDefaults {
        timeout: settings.engine.timeout,
    };
    let path = &args.checklist.checklist;

    // Without --env every environment is linted, because a variable can be missing in only one.
    let environments = match &args.checklist.env {
        Some(env) => vec![Some(env.clone())],
        None => match environment_names(path) {
            names if names.len() > 1 => names.into_iter().map(Some).collect(),
            _ => vec![None],
        },
    };

    let mut failed = false;
    for env in &environments {
        match loader::load(path, env.as_deref(), &overrides, &defaults) {
            Ok(loaded) => {
                super::print_diagnostics(&loaded.warnings, &loaded.source_text);
                let checklist = &loaded.checklist;
                let items = checklist.items().count();
                let checks = checklist.items().filter(|item| !item.is_manual()).count();
                super::print_stdout(&format!(
                    "{}: environment {}: ok, {}, {} ({} automated, {} manual), {}\n",
                    terminal_safe(&path.display().to_string()),
                    checklist.environment,
                    super::plural(checklist.phases.len(), "phase", "phases"),
                    super::plural(items, "item", "items"),
                    checks,
                    items - checks,
                    super::plural(loaded.warnings.len(), "warning", "warnings"),
                ));
            }
            Err(failure) => {
                super::print_stderr(&format!("{}\n", failure.to_string().trim_end()));
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Names of the environments a checklist defines, sorted; empty when the file cannot be
/// parsed (the load that follows then reports why).
fn environment_names(path: &std::path::Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    match table.get("environments") {
        Some(toml::Value::Table(environments)) => environments.keys().cloned().collect(),
        _ => Vec::new(),
    }
}
