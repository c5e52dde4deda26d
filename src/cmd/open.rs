//! `golive open`: the cockpit on a checklist, resuming its session journal.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use golive::checklist::Checklist;
use golive::config::Settings;
use golive::journal::file;
use golive::tui::{self, Cockpit, ExitReason};

use crate::OpenArgs;

pub fn run(args: OpenArgs) -> anyhow::Result<ExitCode> {
    let settings = super::load_settings(&args.config)?;
    let mut warnings = Vec::new();
    let _log = super::start_logging(&settings, &mut warnings);
    let checklist = super::load_checklist(&args.checklist, &settings)?;
    let actor = super::resolve_actor(args.actor, &settings, &mut warnings);
    let runtime = super::runtime()?;
    let reason = runtime.block_on(open_cockpit(
        checklist,
        settings,
        actor,
        args.theme,
        args.new_session,
        warnings,
    ))?;
    Ok(ExitCode::from(reason.exit_code()))
}

/// Opens the journal for the checklist and runs the cockpit until the person quits.
pub async fn open_cockpit(
    checklist: Arc<Checklist>,
    settings: Settings,
    actor: String,
    theme: Option<String>,
    new_session: bool,
    startup_warnings: Vec<String>,
) -> anyhow::Result<ExitReason> {
    require_terminal()?;
    let journal = file::open(&settings.journal_dir(), &checklist, new_session, &actor)
        .context("cannot open the session journal")?;
    let theme_name = theme.unwrap_or_else(|| settings.ui.theme.clone());
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    let theme = tui::theme::load(&theme_name, no_color)?;
    tracing::info!(checklist = %checklist.path.display(), environment = %checklist.environment,
        journal = %journal.path().display(), "cockpit starting");
    tui::run(Cockpit {
        checklist,
        settings,
        journal: Box::new(journal),
        actor,
        theme,
        startup_warnings,
    })
    .await
}

/// Fails with a clear message when standard input or output is not a terminal, because the
/// cockpit needs one to draw and read keys.
fn require_terminal() -> anyhow::Result<()> {
    use std::io::IsTerminal;

    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        return Ok(());
    }
    anyhow::bail!(
        "the cockpit needs an interactive terminal, and standard input or output is not one; \
         run it in a terminal, or use `golive check` for scripts and CI"
    )
}
