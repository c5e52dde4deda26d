//! `golive check`: runs every automated check once and prints a report for CI.

use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::Context;
use golive::checklist::Checklist;
use golive::config::Settings;
use golive::journal::file;
use golive::session::Session;

use crate::CheckArgs;

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let settings = super::load_settings(&args.config)?;
    let mut warnings = Vec::new();
    let _log = super::start_logging(&settings, &mut warnings);
    let checklist = super::load_checklist(&args.checklist, &settings)?;

    // The loader accepted the policy already; it is read again because only the checklist
    // is passed on. Its waivers make failing required checks count toward GO until they expire.
    let policy = golive::checklist::loader::load_policy(&checklist)
        .map_err(|failure| anyhow::anyhow!("cannot read sign-offs and waivers:\n{failure}"))?;
    let mut session = Session::with_policy(checklist.clone(), policy);
    if !args.ignore_journal {
        replay_session_journal(&checklist, &settings, &mut session, &mut warnings);
    }
    for warning in &warnings {
        super::print_stderr(&format!("warning: {warning}\n"));
    }
    // Only manual marks count as satisfied from outside: every check runs again here.
    let ticked: BTreeSet<String> = session
        .satisfied()
        .into_iter()
        .filter(|id| session.item(id).is_some_and(|item| item.is_manual()))
        .collect();

    let runtime = super::runtime()?;
    let results = runtime.block_on(golive::engine::run_once(
        checklist.clone(),
        settings.engine.clone(),
        ticked,
    ));
    for result in &results {
        session.apply_result(result.clone());
    }
    let report = golive::report::render(args.format, &checklist, &session, &results);
    match &args.output {
        Some(path) => std::fs::write(path, report)
            .with_context(|| format!("cannot write report to {}", path.display()))?,
        None => super::print_stdout(&report),
    }
    let code = golive::report::exit_code(&checklist, &session);
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

/// Replays the cockpit's journal of this checklist and environment, when there is one, so that
/// manual items ticked in the cockpit count here and checks that depend on them can run. The
/// journal is only read, so a cockpit may have it open at the same time.
fn replay_session_journal(
    checklist: &Checklist,
    settings: &Settings,
    session: &mut Session,
    warnings: &mut Vec<String>,
) {
    let path = file::path_for(&settings.journal_dir(), checklist);
    if !path.exists() {
        return;
    }
    match file::read_journal(&path) {
        Ok(contents) => {
            for event in &contents.events {
                session.apply_event(event);
            }
            warnings.extend(contents.warnings);
            tracing::info!(journal = %path.display(), events = contents.events.len(),
                "manual marks taken from the session journal");
        }
        Err(err) => warnings.push(format!(
            "{err}; manual items count as not done (pass --ignore-journal to skip the journal)"
        )),
    }
}
