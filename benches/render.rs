//! Render time of one cockpit frame for a 1,000-item checklist at 200×50, into ratatui's
//! `TestBackend` (no terminal I/O). Run with `cargo bench --bench render`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use golive::checklist::loader::{LoadDefaults, load_str};
use golive::checks::{CheckResult, Evidence, Outcome};
use golive::tui::{App, theme, ui};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const ITEMS: usize = 1000;
const PHASES: usize = 10;
const FRAMES: usize = 300;

fn checklist_text() -> String {
    let mut text = String::from("[checklist]\ntitle = \"Render benchmark\"\n");
    for phase in 0..PHASES {
        text.push_str(&format!(
            "\n[[phases]]\nid = \"p{phase}\"\ntitle = \"Phase {phase}\"\n"
        ));
        for index in 0..ITEMS / PHASES {
            let id = phase * (ITEMS / PHASES) + index;
            if id.is_multiple_of(3) {
                text.push_str(&format!(
                    "\n[[phases.items]]\nid = \"i{id}\"\ntitle = \"Manual step {id}\"\n\
                     severity = \"high\"\nsteps = [\"Do step {id}\"]\nexpected = \"Done\"\n"
                ));
            } else {
                text.push_str(&format!(
                    "\n[[phases.items]]\nid = \"i{id}\"\ntitle = \"Health check {id}\"\n\
                     severity = \"critical\"\n[phases.items.check]\nkind = \"http\"\n\
                     url = \"http://127.0.0.1:9/health/{id}\"\n"
                ));
            }
        }
    }
    text
}

fn main() {
    let loaded = load_str(
        Path::new("render-bench.toml"),
        &checklist_text(),
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
    )
    .expect("benchmark checklist loads");
    let checklist = Arc::new(loaded.checklist);
    let dir = tempfile::tempdir().expect("temp dir");
    let journal =
        golive::journal::file::open(dir.path(), &checklist, false, "bench").expect("journal opens");
    let theme = theme::load("dark", false).expect("dark theme loads");
    let mut app = App::new(
        Arc::clone(&checklist),
        Box::new(journal),
        "bench".into(),
        theme,
    );

    // Give every check a result with history so the frame draws evidence and a sparkline.
    for item in checklist.items().filter(|item| !item.is_manual()) {
        for round in 0..20u64 {
            app.session.apply_result(CheckResult {
                item_id: item.id.clone(),
                outcome: if round % 7 == 0 {
                    Outcome::Fail
                } else {
                    Outcome::Pass
                },
                summary: "status: expected 200, got 200".into(),
                evidence: Evidence {
                    status: Some(200),
                    latency_ms: Some(5 + round),
                    ..Default::default()
                },
                started_at: jiff::Timestamp::now(),
                elapsed_ms: 5 + round,
                attempts: 1,
            });
        }
    }
    app.item = 1;

    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test terminal");
    let mut times: Vec<Duration> = Vec::with_capacity(FRAMES);
    for _ in 0..FRAMES {
        let start = Instant::now();
        terminal
            .draw(|frame| ui::render(frame, &app))
            .expect("draw");
        times.push(start.elapsed());
    }
    times.sort();
    let median = times[FRAMES / 2];
    let p99 = times[FRAMES * 99 / 100];
    println!(
        "render: {ITEMS} items, 200x50, {FRAMES} frames: median {:.2} ms, p99 {:.2} ms",
        median.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0
    );
}
