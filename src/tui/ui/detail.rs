//! The detail pane: the selected item's steps or check settings, its last result with the
//! evidence, a sparkline of the evidence's series or of the latency, and notes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Paragraph, Sparkline, SparklineBar, Wrap};

use crate::checklist::{CheckDef, Item, ItemBody, ManualSteps};
use crate::checks::aws::metric::format_value;
use crate::checks::{CheckResult, Evidence, EvidenceSeries};
use crate::sanitize::truncate_chars;
use crate::session::{ItemState, Status};

use super::{pane_block, safe_line, safe_lines, status_span};
use crate::tui::app::{App, Pane};

/// Lines of a response body shown in the detail pane.
const BODY_LINES: usize = 12;
/// Characters of one response body line shown in the detail pane.
const BODY_LINE_CHARS: usize = 200;

/// Draws the selected item: steps or check settings, the last result with its evidence, a
/// latency sparkline and notes.
pub fn render_detail(frame: &mut Frame, app: &App, area: Rect) {
    let block = pane_block(app, Pane::Detail, " Detail ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(item) = app.selected_item() else {
        let text = Span::styled("no item selected", app.theme.muted);
        frame.render_widget(Paragraph::new(text), inner);
        return;
    };
    let state = app.session.state(&item.id);
    let latencies: Vec<(Option<u64>, Status)> = state
        .map(|state| {
            state
                .history
                .iter()
                .map(|point| (point.latency_ms, point.outcome.into()))
                .collect()
        })
        .unwrap_or_default();
    let series = state
        .and_then(|state| state.result.as_ref())
        .and_then(|result| result.evidence.series.as_ref())
        .filter(|series| !series.points.is_empty());
    let show_sparkline = (series.is_some()
        || latencies.iter().any(|(latency, _)| latency.is_some()))
        && inner.height > 8;
    let (text_area, spark_area) = if show_sparkline {
        let [text, spark] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(3)]).areas(inner);
        (text, Some(spark))
    } else {
        (inner, None)
    };

    let lines = detail_lines(app, item, state, text_area.width);
    let wrapped = wrapped_height(&lines, text_area.width);
    app.detail_max_scroll
        .set(wrapped.saturating_sub(text_area.height));
    let scroll = app.detail_scroll.min(app.detail_max_scroll.get());
    let paragraph = Paragraph::new(Text::from(lines))
        .wrap(Wrap { trim: false })
        .scroll((scroll, 0));
    frame.render_widget(paragraph, text_area);

    // Say that the text goes on below, so that a cut-off section does not look empty.
    let hidden_rows = app.detail_max_scroll.get().saturating_sub(scroll);
    if hidden_rows > 0 && text_area.height > 0 {
        let noun = if hidden_rows == 1 { "row" } else { "rows" };
        let keys = if app.focus == Pane::Detail {
            "j scrolls"
        } else {
            "Tab to Detail, j"
        };
        let marker = format!(" ↓ {hidden_rows} more {noun} ({keys}) ");
        let marker_area = Rect {
            y: text_area.y + text_area.height - 1,
            height: 1,
            ..text_area
        };
        let paragraph = Paragraph::new(Span::styled(marker, app.theme.muted))
            .alignment(ratatui::layout::Alignment::Right);
        frame.render_widget(paragraph, marker_area);
    }

    // The check's own series describes the item better than the latency of its attempts.
    match (spark_area, series) {
        (Some(spark_area), Some(series)) => render_series(frame, app, series, spark_area),
        (Some(spark_area), None) => render_sparkline(frame, app, &latencies, spark_area),
        _ => {}
    }
}

/// Estimates the rows the lines take when wrapped at `width` from each line's display width.
/// Word wrapping can take a row more, so the estimate may be slightly low.
pub(super) fn wrapped_height(lines: &[Line], width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let rows: usize = lines
        .iter()
        .map(|line| line.width().max(1).div_ceil(width))
        .sum();
    u16::try_from(rows).unwrap_or(u16::MAX)
}

fn render_sparkline(frame: &mut Frame, app: &App, points: &[(Option<u64>, Status)], area: Rect) {
    let [label_area, spark_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let known: Vec<u64> = points.iter().filter_map(|(latency, _)| *latency).collect();
    let min = known.iter().min().copied().unwrap_or(0);
    let max = known.iter().max().copied().unwrap_or(0);
    let last = known.last().copied().unwrap_or(0);
    let label = format!(
        "latency of the last {} results: last {last} ms, min {min} ms, max {max} ms",
        points.len()
    );
    frame.render_widget(
        Paragraph::new(Span::styled(label, app.theme.muted)),
        label_area,
    );
    // Show the newest results when there are more than columns.
    let skip = points.len().saturating_sub(usize::from(spark_area.width));
    let bars: Vec<SparklineBar> = points
        .iter()
        .skip(skip)
        .map(|(latency, status)| {
            SparklineBar::from(*latency).style(Some(app.theme.status(*status)))
        })
        .collect();
    let sparkline = Sparkline::default().data(bars).absent_value_symbol("·");
    frame.render_widget(sparkline, spark_area);
}

/// Scale of the series bars: the highest value of the series is this many units tall.
const SERIES_SCALE: f64 = 1000.0;

/// Draws an evidence series: a label with its range, then one bar per point, with `·` where a
/// point has no data.
fn render_series(frame: &mut Frame, app: &App, series: &EvidenceSeries, area: Rect) {
    let [label_area, spark_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    frame.render_widget(
        Paragraph::new(Span::styled(series_summary(series), app.theme.muted)),
        label_area,
    );
    let known: Vec<f64> = series.points.iter().flatten().copied().collect();
    // Bars cannot go below zero, so a series with negative values is shifted up by its minimum.
    let low = known.iter().copied().fold(0.0, f64::min);
    let high = known.iter().copied().fold(low, f64::max);
    let span = high - low;
    let skip = series
        .points
        .len()
        .saturating_sub(usize::from(spark_area.width));
    let bars: Vec<SparklineBar> = series
        .points
        .iter()
        .skip(skip)
        .map(|point| {
            let height = point.map(|value| {
                if span > 0.0 {
                    // Rounded into 0..=SERIES_SCALE, so the cast cannot overflow.
                    ((value - low) / span * SERIES_SCALE).round() as u64
                } else {
                    0
                }
            });
            SparklineBar::from(height)
        })
        .collect();
    let sparkline = Sparkline::default()
        .data(bars)
        .max(SERIES_SCALE as u64)
        .style(app.theme.header)
        .absent_value_symbol("·");
    frame.render_widget(sparkline, spark_area);
}

/// Returns one line about a series: its label and unit, the points with data, and the last,
/// lowest and highest value.
pub(super) fn series_summary(series: &EvidenceSeries) -> String {
    let known: Vec<f64> = series.points.iter().flatten().copied().collect();
    let mut label = safe_line(&series.label);
    if let Some(unit) = &series.unit {
        label = format!("{label} ({})", safe_line(unit));
    }
    let Some(last) = known.last() else {
        return format!("{label}: no data in {} points", series.points.len());
    };
    let min = known.iter().copied().fold(f64::INFINITY, f64::min);
    let max = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!(
        "{label}: {}/{} points, last {}, min {}, max {}",
        known.len(),
        series.points.len(),
        format_value(*last),
        format_value(min),
        format_value(max),
    )
}

pub(super) fn heading(app: &App, text: &str) -> Line<'static> {
    Line::from(Span::styled(text.to_string(), app.theme.header))
}

pub(super) fn label_value(app: &App, label: &str, value: &str) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("  {label}: "), app.theme.muted),
        Span::raw(safe_line(value)),
    ])
}

fn detail_lines(
    app: &App,
    item: &Item,
    state: Option<&ItemState>,
    width: u16,
) -> Vec<Line<'static>> {
    let status = app.session.status(&item.id);
    let mut lines = vec![
        Line::from(vec![
            status_span(app, status),
            Span::raw("  "),
            Span::styled(safe_line(&item.title), app.theme.header),
        ]),
        Line::from(Span::styled(
            format!(
                "{} · {} · {} · owner {}",
                safe_line(&item.id),
                item.severity.as_str(),
                if item.required {
                    "required"
                } else {
                    "optional"
                },
                safe_line(item.owner.as_deref().unwrap_or("none")),
            ),
            app.theme.muted,
        )),
    ];
    if !item.depends_on.is_empty() {
        let mut spans = vec![Span::styled("depends on ", app.theme.muted)];
        for (index, dependency) in item.depends_on.iter().enumerate() {
            if index > 0 {
                spans.push(Span::raw(", "));
            }
            let dependency_status = app.session.status(dependency);
            spans.push(Span::raw(format!("{} ", safe_line(dependency))));
            spans.push(status_span(app, dependency_status));
        }
        lines.push(Line::from(spans));
    }
    if let Some(description) = &item.description {
        lines.push(Line::default());
        lines.extend(safe_lines(description).into_iter().map(Line::from));
    }
    if let ItemBody::Check(check) = &item.body {
        for reason in &check.unavailable {
            lines.push(Line::from(Span::styled(
                format!("cannot run: {}", safe_line(reason)),
                app.theme.error,
            )));
        }
    }
    lines.push(Line::default());
    super::launch::waiver_lines(app, &item.id, &mut lines);
    // The result and people's notes come before the long evidence so that they stay visible
    // without scrolling.
    match &item.body {
        ItemBody::Manual(manual) => {
            manual_lines(app, manual, state, &mut lines);
            request_hint_lines(app, manual, &mut lines);
            note_lines(app, state, &mut lines);
        }
        ItemBody::Check(check) => {
            result_lines(app, state, &mut lines);
            note_lines(app, state, &mut lines);
            if let Some(result) = state.and_then(|state| state.result.as_ref()) {
                evidence_lines(app, &result.evidence, width, &mut lines);
            }
            lines.push(Line::default());
            check_lines(app, check, &mut lines);
        }
    }
    lines
}

pub(super) fn manual_lines(
    app: &App,
    manual: &ManualSteps,
    state: Option<&ItemState>,
    lines: &mut Vec<Line<'static>>,
) {
    lines.push(heading(app, "Steps"));
    for (index, step) in manual.steps.iter().enumerate() {
        lines.push(Line::from(format!("  {}. {}", index + 1, safe_line(step))));
    }
    if let Some(expected) = &manual.expected {
        lines.push(label_value(app, "expected", expected));
    }
    if let Some(mark) = state.and_then(|state| state.mark.as_ref()) {
        let what = if mark.done { "done" } else { "failed" };
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            format!(
                "marked {what} by {} at {}",
                safe_line(&mark.actor),
                app.clock(mark.at)
            ),
            app.theme.muted,
        )));
    }
}

/// Names a manual item's request and where to send it from.
fn request_hint_lines(app: &App, manual: &ManualSteps, lines: &mut Vec<Line<'static>>) {
    if let Some(request) = manual.request.as_ref() {
        let sent = request
            .spec
            .describe(&app.checklist().redactor)
            .into_iter()
            .filter(|(label, _)| label == "method" || label == "url")
            .map(|(_, value)| value)
            .collect::<Vec<_>>()
            .join(" ");
        lines.push(label_value(app, "request", &sent));
        // Enter opens the QA view only from the item and detail panes.
        if matches!(app.focus, Pane::Items | Pane::Detail) {
            lines.push(Line::from(Span::styled(
                "  Enter opens the QA view, where r sends it and c copies it as curl",
                app.theme.muted,
            )));
        }
    }
}

pub(super) fn check_lines(app: &App, check: &CheckDef, lines: &mut Vec<Line<'static>>) {
    lines.push(heading(app, &format!("Check: {}", check.spec.kind())));
    for (label, value) in check.spec.describe(&app.checklist().redactor) {
        lines.push(label_value(app, &label, &value));
    }
    let mut schedule = format!(
        "timeout {} · retries {}",
        crate::duration::format_duration(check.timeout),
        check.retries
    );
    if let Some(interval) = check.interval {
        schedule.push_str(&format!(
            " · every {}",
            crate::duration::format_duration(interval)
        ));
    }
    lines.push(Line::from(Span::styled(
        format!("  {schedule}"),
        app.theme.muted,
    )));
}

pub(super) fn note_lines(app: &App, state: Option<&ItemState>, lines: &mut Vec<Line<'static>>) {
    let Some(state) = state.filter(|state| !state.notes.is_empty()) else {
        return;
    };
    lines.push(heading(app, "Notes"));
    for note in &state.notes {
        lines.push(Line::from(vec![
            Span::styled(
                format!("  {} {}: ", app.clock(note.at), safe_line(&note.actor)),
                app.theme.muted,
            ),
            Span::raw(safe_line(&note.text)),
        ]));
    }
}

pub(super) fn result_lines(app: &App, state: Option<&ItemState>, lines: &mut Vec<Line<'static>>) {
    let Some(state) = state else {
        return;
    };
    match (&state.result, &state.recorded) {
        (Some(result), _) => {
            let status = Status::from(result.outcome);
            lines.push(Line::from(vec![
                Span::styled("Last result ", app.theme.header),
                status_span(app, status),
                Span::styled(result_facts(app, result), app.theme.muted),
            ]));
            lines.push(Line::from(format!("  {}", safe_line(&result.summary))));
            assertion_lines(app, &result.evidence, lines);
        }
        (None, Some(recorded)) => {
            lines.push(Line::from(vec![
                Span::styled("Recorded outcome ", app.theme.header),
                status_span(app, Status::from(recorded.outcome)),
                Span::styled(
                    format!(
                        " at {} (from the journal; not run yet)",
                        app.clock(recorded.at)
                    ),
                    app.theme.muted,
                ),
            ]));
            lines.push(Line::from(format!("  {}", safe_line(&recorded.summary))));
        }
        (None, None) => {
            lines.push(Line::from(Span::styled("not run yet", app.theme.muted)));
        }
    }
}

fn result_facts(app: &App, result: &CheckResult) -> String {
    let attempts = if result.attempts == 1 {
        "1 attempt".to_string()
    } else {
        format!("{} attempts", result.attempts)
    };
    format!(
        " at {} · {attempts} · {} ms",
        app.clock(result.started_at),
        result.elapsed_ms
    )
}

/// Adds the evidence tables, the request, the response and the check's notes. Tables are laid
/// out for `width` columns.
pub(super) fn evidence_lines(
    app: &App,
    evidence: &Evidence,
    width: u16,
    lines: &mut Vec<Line<'static>>,
) {
    super::table::table_lines(app, &evidence.tables, width, lines);
    if !evidence.request.is_empty() {
        lines.push(heading(app, "Request"));
        for part in &evidence.request {
            lines.push(Line::from(format!("  {}", safe_line(part))));
        }
    }
    if evidence.status.is_some() || !evidence.headers.is_empty() {
        lines.push(heading(app, "Response"));
        if let Some(status) = evidence.status {
            let latency = evidence
                .latency_ms
                .map(|ms| format!(" in {ms} ms"))
                .unwrap_or_default();
            lines.push(Line::from(format!("  status {status}{latency}")));
        }
        for (name, value) in &evidence.headers {
            lines.push(Line::from(vec![
                Span::styled(format!("  {}: ", safe_line(name)), app.theme.muted),
                Span::raw(safe_line(value)),
            ]));
        }
    }
    if let Some(body) = &evidence.body_excerpt {
        lines.push(heading(app, "Body"));
        let body_lines = safe_lines(body);
        let hidden = body_lines.len().saturating_sub(BODY_LINES);
        for line in body_lines.into_iter().take(BODY_LINES) {
            lines.push(Line::from(format!(
                "  {}",
                truncate_chars(&line, BODY_LINE_CHARS)
            )));
        }
        if hidden > 0 {
            lines.push(Line::from(Span::styled(
                format!("  … {hidden} more lines"),
                app.theme.muted,
            )));
        }
    }
    if let Some(series) = &evidence.series {
        lines.push(heading(app, "Series"));
        lines.push(Line::from(format!("  {}", series_summary(series))));
    }
    if !evidence.notes.is_empty() {
        lines.push(heading(app, "Check notes"));
        for note in &evidence.notes {
            lines.push(Line::from(format!("  {}", safe_line(note))));
        }
    }
}

pub(super) fn assertion_lines(app: &App, evidence: &Evidence, lines: &mut Vec<Line<'static>>) {
    for assertion in &evidence.assertions {
        let (mark, style) = if assertion.passed {
            ("✔", app.theme.status(Status::Pass))
        } else {
            ("✘", app.theme.status(Status::Fail))
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {mark} "), style),
            Span::raw(format!(
                "{}: expected {}, got {}",
                safe_line(&assertion.subject),
                safe_line(&assertion.expected),
                safe_line(&assertion.actual)
            )),
        ]));
    }
}
