//! Drawing of the cockpit from an [`App`]. Drawing changes no state except the measured detail
//! scroll limit.

use std::collections::VecDeque;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{
    Block, Borders, Cell, Clear, List, ListItem, ListState, Paragraph, Row, Table, TableState, Wrap,
};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::checklist::Item;
use crate::sanitize::terminal_safe;
use crate::session::Status;

use super::app::{App, Input, LOG_PREFIX_WIDTH, LogLevel, Pane, wrap_text};
use super::line_input::LineInput;

mod detail;
mod launch;
mod qa;
mod table;

pub use detail::render_detail;
pub use qa::{QA_KEYS, render_qa};

/// Smallest terminal width the cockpit draws in.
pub const MIN_WIDTH: u16 = 80;
/// Smallest terminal height the cockpit draws in.
pub const MIN_HEIGHT: u16 = 24;
/// Below this width or [`FULL_MIN_HEIGHT`], phases collapse into one line and the log shrinks.
const FULL_MIN_WIDTH: u16 = 100;
const FULL_MIN_HEIGHT: u16 = 32;
/// Narrowest and widest phase list in the full layout, which otherwise takes a third of the
/// screen width.
const PHASES_MIN_WIDTH: u16 = 34;
const PHASES_MAX_WIDTH: u16 = 48;
/// Cells of the small text gauge beside each phase.
const GAUGE_CELLS: usize = 6;

/// Draws the whole screen.
pub fn render(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        render_too_small(frame, area);
        return;
    }

    if app.qa.is_some() {
        render_qa(frame, app, area);
        launch::render_launch_popup(frame, app, area);
        if app.show_help {
            render_key_help(frame, app, area, QA_KEYS);
        }
        return;
    }

    let compact = area.width < FULL_MIN_WIDTH || area.height < FULL_MIN_HEIGHT;
    let log_height = if compact { 4 } else { 8 };
    let [header, body, log, status] = Layout::vertical([
        Constraint::Length(header_height(app)),
        Constraint::Fill(1),
        Constraint::Length(log_height),
        Constraint::Length(status_height(app, area.width)),
    ])
    .areas(area);

    render_header(frame, app, header);
    if compact {
        render_compact_body(frame, app, body);
    } else {
        render_full_body(frame, app, body);
    }
    render_log(frame, app, log, compact);
    render_status_line(frame, app, status);
    launch::render_launch_popup(frame, app, area);
    if app.show_help {
        render_help(frame, app, area);
    }
}

/// Rows the header needs: two, and a third for the drift banner when an item drifted since a
/// sign-off.
fn header_height(app: &App) -> u16 {
    if app.session.drift().is_empty() { 2 } else { 3 }
}

/// Most rows a long error or message takes on the status line before it is cut.
const MAX_STATUS_ROWS: usize = 3;

/// Rows the status line needs: one, or up to [`MAX_STATUS_ROWS`] for a long error or message
/// while no input is open.
fn status_height(app: &App, width: u16) -> u16 {
    if app.input.is_some() {
        return 1;
    }
    let text_width = match (&app.error_line, &app.status_line) {
        (Some(error), _) => error_line_text(error).width() + ERROR_HINT.width(),
        (None, Some(status)) => format!(" {}", safe_line(status)).width(),
        (None, None) => 1,
    };
    let rows = text_width.div_ceil(usize::from(width.max(1)));
    u16::try_from(rows.clamp(1, MAX_STATUS_ROWS)).unwrap_or(1)
}

/// Hint after an error on the status line.
const ERROR_HINT: &str = "  (Esc dismisses)";

fn error_line_text(error: &str) -> String {
    format!(" ✘ {}", safe_line(error))
}

/// Rows the item table needs: one per visible item, plus its header row and borders.
fn item_table_rows(app: &App) -> u16 {
    let items = u16::try_from(app.visible_items().len()).unwrap_or(u16::MAX);
    items.saturating_add(3)
}

/// Lays out phases and blockers on the left, items and detail on the right.
fn render_full_body(frame: &mut Frame, app: &App, body: Rect) {
    let phases_width = (body.width / 3).clamp(PHASES_MIN_WIDTH, PHASES_MAX_WIDTH);
    let [left, right] =
        Layout::horizontal([Constraint::Length(phases_width), Constraint::Fill(1)]).areas(body);

    let phase_rows = u16::try_from(app.checklist().phases.len()).unwrap_or(u16::MAX);
    let [phases, blockers] = Layout::vertical([
        Constraint::Length(phase_rows.saturating_add(2).min(left.height / 2)),
        Constraint::Fill(1),
    ])
    .areas(left);

    let max_items = (right.height / 2).max(5);
    let [items, detail] = Layout::vertical([
        Constraint::Length(item_table_rows(app).clamp(5, max_items)),
        Constraint::Fill(1),
    ])
    .areas(right);

    render_phases(frame, app, phases);
    render_blockers(frame, app, blockers);
    render_items(frame, app, items);
    render_detail(frame, app, detail);
}

/// Stacks a one-line phase bar, the items and the detail, for small terminals.
fn render_compact_body(frame: &mut Frame, app: &App, body: Rect) {
    let [phases, items, detail] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(item_table_rows(app).clamp(4, 8)),
        Constraint::Fill(1),
    ])
    .areas(body);

    render_phase_bar(frame, app, phases);
    render_items(frame, app, items);
    // The compact layout has no room for a blockers pane, so the blockers take the detail's
    // place while they have the focus.
    if app.focus == Pane::Blockers {
        render_blockers(frame, app, detail);
    } else {
        render_detail(frame, app, detail);
    }
}

/// Replaces control characters and flattens the text to one line for a span.
pub(super) fn safe_line(text: &str) -> String {
    terminal_safe(text).replace('\n', " ").replace('\t', "  ")
}

/// Splits sanitised text into display lines, with tabs expanded.
pub(super) fn safe_lines(text: &str) -> Vec<String> {
    terminal_safe(text)
        .replace('\t', "  ")
        .lines()
        .map(str::to_string)
        .collect()
}

pub(super) fn pane_block<'a>(app: &App, pane: Pane, title: impl Into<Line<'a>>) -> Block<'a> {
    let style = if app.focus == pane {
        app.theme.focused_border
    } else {
        app.theme.border
    };
    Block::bordered().border_style(style).title(title)
}

pub(super) fn status_span(app: &App, status: Status) -> Span<'static> {
    Span::styled(
        format!("{} {}", status.symbol(), status.word()),
        app.theme.status(status),
    )
}

/// Draws the title, environment, launch decision, counts and T-minus clock, and the drift
/// banner on a third line when an item drifted since a sign-off.
pub fn render_header(frame: &mut Frame, app: &App, area: Rect) {
    let row = |index: u16| Rect {
        y: area.y.saturating_add(index),
        height: 1.min(area.height.saturating_sub(index)),
        ..area
    };
    let (first, second, third) = (row(0), row(1), row(2));
    if let Some(banner) = launch::drift_banner(app) {
        frame.render_widget(Paragraph::new(banner), third);
    }
    let checklist = app.checklist();
    let verdict_span = launch::decision_span(app);
    let mut title = vec![
        verdict_span,
        Span::raw("  "),
        Span::styled(safe_line(&checklist.title), app.theme.header),
    ];
    if let Some(version) = &checklist.version {
        title.push(Span::styled(
            format!(" {}", safe_line(version)),
            app.theme.muted,
        ));
    }
    title.push(Span::styled(" · ", app.theme.muted));
    title.push(Span::styled(
        safe_line(&checklist.environment),
        app.theme.header,
    ));
    frame.render_widget(Paragraph::new(Line::from(title)), first);
    if let Some(countdown) = app.countdown() {
        let clock = Line::from(Span::styled(format!("{countdown} "), app.theme.header));
        frame.render_widget(Paragraph::new(clock).alignment(Alignment::Right), first);
    }

    let counts = app.session.counts();
    let mut entries = vec![
        (Status::Pass, counts.pass),
        (Status::Fail, counts.fail),
        (Status::Error, counts.error),
        (Status::Blocked, counts.blocked),
        (Status::Pending, counts.pending),
        (Status::Done, counts.done),
    ];
    // Failed, waived and running are rare, so they only take room when present.
    if counts.failed > 0 {
        entries.push((Status::Failed, counts.failed));
    }
    if counts.waived > 0 {
        entries.push((Status::Waived, counts.waived));
    }
    if counts.running > 0 {
        entries.push((Status::Running, counts.running));
    }
    let mut spans = vec![Span::raw(" ")];
    for (status, count) in entries {
        spans.push(Span::styled(
            format!("{} {count} {}", status.symbol(), status.word()),
            app.theme.status(status),
        ));
        spans.push(Span::raw("  "));
    }
    spans.push(Span::styled(
        format!("of {}", counts.total),
        app.theme.muted,
    ));
    frame.render_widget(Paragraph::new(Line::from(spans)), second);
}

/// Satisfied, total and waived items of a phase. A waived item counts as satisfied, as it does
/// for the launch decision.
fn phase_progress(app: &App, index: usize) -> (usize, usize, usize) {
    let counts = app.session.phase_counts(index);
    (
        counts.pass + counts.done + counts.waived,
        counts.total,
        counts.waived,
    )
}

/// Formats a phase's progress, such as ` 5/7`, or ` 5/7 (1 waived)` with `show_waived`.
fn progress_text(satisfied: usize, total: usize, waived: usize, show_waived: bool) -> String {
    if show_waived && waived > 0 {
        format!(" {satisfied}/{total} ({waived} waived)")
    } else {
        format!(" {satisfied}/{total}")
    }
}

fn text_gauge(satisfied: usize, total: usize) -> String {
    let filled = (satisfied * GAUGE_CELLS).checked_div(total).unwrap_or(0);
    format!("{}{}", "█".repeat(filled), "░".repeat(GAUGE_CELLS - filled))
}

/// Draws the phase list with each phase's progress.
pub fn render_phases(frame: &mut Frame, app: &App, area: Rect) {
    let block = pane_block(app, Pane::Phases, " Phases ");
    let inner_width = usize::from(block.inner(area).width).saturating_sub(2);
    // Titles matter more than the gauge, which repeats the count, so every row drops the gauge
    // when a title would otherwise be cut.
    // The waived count goes first when titles would be cut, then the gauge.
    let gauge_room = GAUGE_CELLS + 1;
    let fits = |show_waived: bool, gauge: usize| {
        app.checklist()
            .phases
            .iter()
            .enumerate()
            .all(|(index, phase)| {
                let (satisfied, total, waived) = phase_progress(app, index);
                let count_width = progress_text(satisfied, total, waived, show_waived).width();
                safe_line(&phase.title).width() + count_width + gauge <= inner_width
            })
    };
    let show_gauge = fits(false, gauge_room);
    let show_waived = fits(true, if show_gauge { gauge_room } else { 0 });
    let items: Vec<ListItem> = app
        .checklist()
        .phases
        .iter()
        .enumerate()
        .map(|(index, phase)| {
            let (satisfied, total, waived) = phase_progress(app, index);
            let mut progress = progress_text(satisfied, total, waived, show_waived);
            if show_gauge {
                progress.push(' ');
                progress.push_str(&text_gauge(satisfied, total));
            }
            let title_width = inner_width.saturating_sub(progress.width());
            let title = fit(&safe_line(&phase.title), title_width);
            let style = if satisfied == total {
                app.theme.status(Status::Pass)
            } else {
                app.theme.muted
            };
            ListItem::new(Line::from(vec![
                Span::raw(title),
                Span::styled(progress, style),
            ]))
        })
        .collect();

    let list = List::new(items)
        .block(block)
        .highlight_style(app.theme.selection)
        .highlight_symbol("▸ ");
    let mut state = ListState::default().with_selected(Some(app.phase));
    frame.render_stateful_widget(list, area, &mut state);
}

/// Draws the required items that keep the verdict at NO-GO, in checklist order.
fn render_blockers(frame: &mut Frame, app: &App, area: Rect) {
    let verdict = app.session.verdict();
    let block = pane_block(app, Pane::Blockers, " Blockers ");

    if verdict.go {
        let message = Line::from(Span::styled(
            "none: every required item is passed, done or waived",
            app.theme.status(Status::Pass),
        ));
        let mut lines = vec![message];
        lines.extend(launch::missing_signoffs_line(app));
        frame.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false }),
            area,
        );
        return;
    }

    // Columns left after the highlight symbol and the status symbol with its space.
    let text_width = usize::from(block.inner(area).width).saturating_sub(4);
    let items: Vec<ListItem> = verdict
        .blockers
        .iter()
        .map(|blocker| {
            let id = safe_line(&blocker.item_id);
            let word = format!(" {}", blocker.status.word());
            let mut spans = vec![Span::styled(
                format!("{} ", blocker.status.symbol()),
                app.theme.status(blocker.status),
            )];
            // The id matters more than the status word, so a short row drops the word, and the
            // id is cut only when it alone is too wide.
            if id.width() + word.width() <= text_width {
                spans.push(Span::raw(id));
                spans.push(Span::styled(word, app.theme.muted));
            } else {
                spans.push(Span::raw(fit(&id, text_width)));
            }
            ListItem::new(Line::from(spans))
        })
        .collect();

    let list = List::new(items)
        .block(block)
        .highlight_style(app.theme.selection)
        .highlight_symbol("▸ ");
    // The selection shows only while the pane has the focus, because only then do keys act on
    // it.
    let selected = (app.focus == Pane::Blockers)
        .then(|| app.blocker.min(verdict.blockers.len().saturating_sub(1)));
    let mut state = ListState::default().with_selected(selected);
    frame.render_stateful_widget(list, area, &mut state);
}

/// Pads or cuts text to exactly `width` columns, marking a cut with an ellipsis.
pub(super) fn fit(text: &str, width: usize) -> String {
    if text.width() <= width {
        return format!("{text}{}", " ".repeat(width - text.width()));
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in text.chars() {
        let ch_width = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
        // Leave one column for the ellipsis.
        if used + ch_width + 1 > width {
            break;
        }
        out.push(ch);
        used += ch_width;
    }
    if width > 0 {
        out.push('…');
        used += 1;
    }
    out.push_str(&" ".repeat(width.saturating_sub(used)));
    out
}

/// Draws the phases as one line, for small terminals.
fn render_phase_bar(frame: &mut Frame, app: &App, area: Rect) {
    let label_style = if app.focus == Pane::Phases {
        app.theme.focused_border
    } else {
        app.theme.muted
    };
    let label = " Phases ";
    // The marker shows the selected phase without colour, too.
    let labels: Vec<String> = app
        .checklist()
        .phases
        .iter()
        .enumerate()
        .map(|(index, phase)| {
            let (satisfied, total, _) = phase_progress(app, index);
            let marker = if index == app.phase { "▸" } else { " " };
            format!("{marker}{} {satisfied}/{total} ", safe_line(&phase.title))
        })
        .collect();

    // Skip leading phases until the selected one fits on the line. Each label takes its width
    // plus one separator column.
    let available = usize::from(area.width).saturating_sub(label.len() + 1);
    let widths: Vec<usize> = labels.iter().map(|label| label.width() + 1).collect();
    let mut needed: usize = widths.iter().take(app.phase + 1).sum();
    let mut first = 0;
    while first < app.phase && needed > available {
        needed -= widths[first];
        first += 1;
    }

    let mut spans = vec![Span::styled(label, label_style)];
    if first > 0 {
        spans.push(Span::styled("…", app.theme.muted));
    }
    for (index, text) in labels.into_iter().enumerate().skip(first) {
        if index > first {
            spans.push(Span::styled("│", app.theme.border));
        }
        let style = if index == app.phase {
            app.theme.selection
        } else {
            Style::new()
        };
        spans.push(Span::styled(text, style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Draws the items of the selected phase, or while a filter is set, the matching items of every
/// phase.
pub fn render_items(frame: &mut Frame, app: &App, area: Rect) {
    let visible = app.visible_items();
    let filtering = app.filtering();
    let title = if filtering {
        let mut phases: Vec<usize> = visible
            .iter()
            .filter_map(|item| app.phase_of(&item.id))
            .collect();
        phases.dedup();
        let matches = if visible.len() == 1 {
            "match"
        } else {
            "matches"
        };
        let phase_noun = if phases.len() == 1 { "phase" } else { "phases" };
        vec![
            Span::raw(" Items · "),
            Span::styled(
                format!(
                    "filter “{}”: {} {matches} in {} {phase_noun} ",
                    safe_line(&app.filter),
                    visible.len(),
                    phases.len()
                ),
                app.theme.muted,
            ),
        ]
    } else {
        let phase_title = app
            .selected_phase()
            .map(|phase| safe_line(&phase.title))
            .unwrap_or_default();
        vec![Span::raw(format!(" Items · {phase_title} "))]
    };
    let block = pane_block(app, Pane::Items, Line::from(title));

    if visible.is_empty() {
        let message = if filtering {
            "no items match the filter (Esc clears it)"
        } else {
            "this phase has no items"
        };
        let paragraph = Paragraph::new(Span::styled(message, app.theme.muted)).block(block);
        frame.render_widget(paragraph, area);
        return;
    }

    let rows: Vec<Row> = visible
        .iter()
        .map(|item| item_row(app, item, filtering))
        .collect();
    let header = Row::new(["status", "severity", "owner", "item"]).style(app.theme.muted);
    let widths = [
        Constraint::Length(9),
        Constraint::Length(8),
        Constraint::Length(9),
        Constraint::Fill(1),
    ];
    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .row_highlight_style(app.theme.selection)
        .highlight_symbol("▸ ");
    let mut state = TableState::default().with_selected(Some(app.item));
    frame.render_stateful_widget(table, area, &mut state);
}

/// Builds an item's table row. With `show_phase`, the title starts with the item's phase.
fn item_row<'a>(app: &App, item: &Item, show_phase: bool) -> Row<'a> {
    let status = app.session.status(&item.id);
    let mut title = Vec::new();
    if show_phase {
        let phase = app
            .phase_of(&item.id)
            .and_then(|index| app.checklist().phases.get(index));
        if let Some(phase) = phase {
            title.push(Span::styled(
                format!("{} › ", safe_line(&phase.title)),
                app.theme.muted,
            ));
        }
    }
    title.push(Span::raw(safe_line(&item.title)));
    if !item.required {
        title.push(Span::styled(" (optional)", app.theme.muted));
    }
    Row::new([
        Cell::from(status_span(app, status)),
        Cell::from(item.severity.as_str()),
        Cell::from(safe_line(item.owner.as_deref().unwrap_or("-"))),
        Cell::from(Line::from(title)),
    ])
}

/// Draws the newest event-log lines, or older ones when scrolled.
pub fn render_log(frame: &mut Frame, app: &App, area: Rect, compact: bool) {
    let mut title = vec![Span::raw(" Event log ")];
    if app.log_scroll > 0 {
        title.push(Span::styled(
            format!("{} rows back, End follows new lines ", app.log_scroll),
            app.theme.muted,
        ));
    }
    let block = if compact {
        let style = if app.focus == Pane::Log {
            app.theme.focused_border
        } else {
            app.theme.border
        };
        Block::new()
            .borders(Borders::TOP)
            .border_style(style)
            .title(Line::from(title))
    } else {
        pane_block(app, Pane::Log, Line::from(title))
    };
    let inner = block.inner(area);
    app.log_view.set((inner.width, inner.height));
    let height = usize::from(inner.height);
    let text_width = usize::from(inner.width).saturating_sub(LOG_PREFIX_WIDTH);
    let scroll = app.log_scroll.min(app.log_max_scroll());

    // Wrap lines from the newest back until the rows above the scroll position fill the pane.
    let needed = scroll + height;
    let mut rows: VecDeque<Line> = VecDeque::new();
    for line in app.log.iter().rev() {
        let style = match line.level {
            LogLevel::Info => Style::new(),
            LogLevel::Warning => app.theme.status(Status::Error),
            LogLevel::Error => app.theme.error,
        };
        let wrapped = wrap_text(&line.text, text_width);
        for (index, text) in wrapped.into_iter().enumerate().rev() {
            let prefix = if index == 0 {
                Span::styled(format!("{} ", app.clock(line.at)), app.theme.muted)
            } else {
                Span::raw(" ".repeat(LOG_PREFIX_WIDTH))
            };
            rows.push_front(Line::from(vec![prefix, Span::styled(text, style)]));
        }
        if rows.len() >= needed {
            break;
        }
    }
    let end = rows.len().saturating_sub(scroll);
    let start = end.saturating_sub(height);
    let lines: Vec<Line> = rows.range(start..end).cloned().collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// Draws the bottom line: an open input, the error line, the last message or key hints.
fn render_status_line(frame: &mut Frame, app: &App, area: Rect) {
    let line = match &app.input {
        Some(Input::Note { item, text }) => {
            let prompt = format!(" note for {}: ", safe_line(item));
            let hint = "   Enter saves · Esc cancels";
            let room = usize::from(area.width)
                .saturating_sub(prompt.width() + hint.width())
                .max(1);
            let (visible_text, cursor_column) = field_view(text, room);
            let x = column_after(area.x, prompt.width() + cursor_column);
            place_cursor(frame, x, area.y, area);
            Line::from(vec![
                Span::styled(prompt, app.theme.header),
                Span::raw(fit(&visible_text, room)),
                Span::styled(hint, app.theme.muted),
            ])
        }
        Some(Input::Passphrase(input)) => {
            let prompt = format!(" passphrase for {} (hidden): ", safe_line(&input.key));
            // The cursor stays right after the prompt, so that it does not reveal the length.
            place_cursor(frame, column_after(area.x, prompt.width()), area.y, area);
            Line::from(vec![
                Span::styled(prompt, app.theme.header),
                Span::styled("   Enter signs and exports · Esc cancels", app.theme.muted),
            ])
        }
        Some(input @ (Input::Waiver(_) | Input::SignOff(_))) => Line::from(Span::styled(
            launch::popup_hint(input).unwrap_or_default(),
            app.theme.muted,
        )),
        Some(Input::Filter(text)) => {
            let hint = "   Enter keeps · Esc clears";
            let room = usize::from(area.width)
                .saturating_sub(2 + hint.width())
                .max(1);
            let (visible_text, cursor_column) = field_view(text, room);
            place_cursor(frame, column_after(area.x, 2 + cursor_column), area.y, area);
            Line::from(vec![
                Span::styled(" /", app.theme.header),
                Span::raw(visible_text),
                Span::styled(hint, app.theme.muted),
            ])
        }
        None => match (&app.error_line, &app.status_line) {
            (Some(error), _) => Line::from(vec![
                Span::styled(error_line_text(error), app.theme.error),
                Span::styled(ERROR_HINT, app.theme.muted),
            ]),
            (None, Some(status)) => Line::from(format!(" {}", safe_line(status))),
            (None, None) => Line::from(Span::styled(
                " ? keys · q quit · Tab pane · Space tick · x fail · n note · r run · / filter",
                app.theme.muted,
            )),
        },
    };
    // Character wrapping keeps the estimate of `status_height` exact; an input line is cut to
    // the width already, so only a long error or message takes more rows.
    frame.render_widget(Paragraph::new(wrap_line(line, area.width)), area);
}

/// Splits a line's spans into rows of at most `width` columns, character by character.
fn wrap_line(line: Line<'static>, width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width.max(1));
    let mut rows: Vec<Line<'static>> = vec![Line::default()];
    let mut used = 0;
    for span in line.spans {
        let mut text = String::new();
        for ch in span.content.chars() {
            let ch_width = ch.width().unwrap_or(0);
            if used + ch_width > width {
                if let Some(row) = rows.last_mut() {
                    row.spans
                        .push(Span::styled(std::mem::take(&mut text), span.style));
                }
                rows.push(Line::default());
                used = 0;
            }
            text.push(ch);
            used += ch_width;
        }
        if let Some(row) = rows.last_mut() {
            row.spans.push(Span::styled(text, span.style));
        }
    }
    rows
}

/// Returns the column `width` columns right of `x`, saturating at the terminal's edge.
pub(super) fn column_after(x: u16, width: usize) -> u16 {
    x.saturating_add(u16::try_from(width).unwrap_or(u16::MAX))
}

/// Cuts a text field, made terminal-safe, to the part around its cursor that fits in `width`
/// columns. Returns the visible text and the cursor's column in it.
pub(super) fn field_view(field: &LineInput, width: usize) -> (String, usize) {
    let text = field.text();
    let cursor_byte = text
        .char_indices()
        .nth(field.cursor())
        .map_or(text.len(), |(byte, _)| byte);
    // Sanitising can change the character count, so the cursor is counted in the safe text.
    let safe_cursor = safe_line(&text[..cursor_byte]).chars().count();
    text_window(&safe_line(text), safe_cursor, width)
}

/// Shows the terminal's cursor at column `x` of row `y`, kept inside `area`.
pub(super) fn place_cursor(frame: &mut Frame, x: u16, y: u16, area: Rect) {
    let x = x.min(area.right().saturating_sub(1));
    let y = y.min(area.bottom().saturating_sub(1));
    frame.set_cursor_position((x, y));
}

/// Cuts a one-line text to the part around the cursor that fits in `width` columns, with `…`
/// where text is hidden. Returns the visible text and the cursor's column in it.
fn text_window(text: &str, cursor: usize, width: usize) -> (String, usize) {
    let chars: Vec<char> = text.chars().collect();
    let cursor = cursor.min(chars.len());
    let column = |slice: &[char]| {
        slice
            .iter()
            .map(|ch| ch.width().unwrap_or(0))
            .sum::<usize>()
    };
    if column(&chars) < width {
        return (text.to_string(), column(&chars[..cursor]));
    }
    // Start as far left as keeps the cursor, after one column for the leading ellipsis, in view.
    let mut start = 0;
    while start < cursor && column(&chars[start..cursor]) + usize::from(start > 0) >= width {
        start += 1;
    }
    let mut visible_text = String::new();
    if start > 0 {
        visible_text.push('…');
    }
    let mut used = usize::from(start > 0);
    let mut end = start;
    while end < chars.len() && used + chars[end].width().unwrap_or(0) <= width {
        visible_text.push(chars[end]);
        used += chars[end].width().unwrap_or(0);
        end += 1;
    }
    let cursor_column = usize::from(start > 0) + column(&chars[start..cursor]);
    (visible_text, cursor_column)
}

/// Every key with what it does, shown by the help overlay.
pub const KEYS: &[(&str, &str)] = &[
    ("↑ k  ↓ j", "move in the focused pane"),
    (
        "Tab  Shift-Tab",
        "cycle phases, items, detail, blockers, event log",
    ),
    ("→ l  ← h", "next / previous pane, as Tab and Shift-Tab"),
    ("PgUp  PgDn", "move by 10 rows"),
    ("Home g  End G", "first / last row"),
    (
        "Enter",
        "open items, an item's QA view, or a blocker's item",
    ),
    ("Space", "tick a manual item; untick a done one"),
    ("x", "mark a manual item failed; clear a failed mark"),
    ("n", "add a note to the item (Enter saves, Esc cancels)"),
    ("w", "waive a failed or unfinished item (opens a form)"),
    ("W", "revoke the selected item's waiver"),
    ("s", "give a pending sign-off in your role"),
    ("E", "export the launch record, signed with your key"),
    ("r", "re-run the selected check"),
    ("R", "re-run every check"),
    ("/", "filter all phases' items (Enter keeps, Esc clears)"),
    ("Esc", "clear the filter, or dismiss the error line"),
    (
        "Ctrl-U  Ctrl-W",
        "text field: clear it / delete the previous word",
    ),
    ("?", "show or hide this help"),
    ("q  Ctrl-C", "quit"),
];

/// Draws the cockpit's key help over the screen.
pub fn render_help(frame: &mut Frame, app: &App, area: Rect) {
    render_key_help(frame, app, area, KEYS);
}

/// Draws a list of keys with their meaning over the screen.
fn render_key_help(frame: &mut Frame, app: &App, area: Rect, keys: &[(&str, &str)]) {
    let height = u16::try_from(keys.len() + 4)
        .unwrap_or(u16::MAX)
        .min(area.height);
    let width = 72.min(area.width);
    let [popup] = Layout::vertical([Constraint::Length(height)])
        .flex(ratatui::layout::Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width)])
        .flex(ratatui::layout::Flex::Center)
        .areas(popup);
    let mut lines: Vec<Line> = keys
        .iter()
        .map(|(keys, meaning)| {
            Line::from(vec![
                Span::styled(format!(" {keys:<16}"), app.theme.header),
                Span::raw(*meaning),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        " any key closes this help",
        app.theme.muted,
    )));
    let block = Block::bordered()
        .border_style(app.theme.focused_border)
        .title(" Keys ");
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}

/// Draws the message shown when the terminal is smaller than the cockpit needs.
pub fn render_too_small(frame: &mut Frame, area: Rect) {
    let message = format!(
        "terminal is {}×{}; golive needs at least {MIN_WIDTH}×{MIN_HEIGHT}",
        area.width, area.height
    );
    let text = Text::from(vec![
        Line::from(message.bold()),
        Line::from("enlarge the window, or press q to quit"),
    ]);
    let [middle] = Layout::vertical([Constraint::Length(3)])
        .flex(ratatui::layout::Flex::Center)
        .areas(area);
    let paragraph = Paragraph::new(text)
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true });
    frame.render_widget(paragraph, middle);
}
