//! `golive check`: runs every automated check once and prints a report for CI.

use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::Context;
use golive::session::Session;

use crate::CheckArgs;

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let settings = super::load_settings(&args.config)?;
    let mut warnings = Vec::new();
    let _log = super::start_logging(&settings, &mut warnings);
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    let checklist = super::load_checklist(&args.checklist, &settings)?;

    let runtime = super::runtime()?;
    let results = runtime.block_on(golive::engine::run_once(
        checklist.clone(),
        settings.engine.clone(),
        BTreeSet::new(),
    ));

    let mut session = Session::new(checklist.clone());
    for result in &results {
        session.apply_result(result.clone());
    }
    let report = golive::report::render(args.format, &checklist, &session, &results);
    match &args.output {
        Some(path) => std::fs::write(path, report)
            .with_context(|| format!("cannot write report to {}", path.display()))?,
        None => print!("{report}"),
    }
    let code = golive::report::exit_code(&checklist, &session);
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
