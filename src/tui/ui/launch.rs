//! Drawing of the launch decision, the drift banner, waivers in the detail pane, and the
//! waiver and sign-off popups.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use crate::session::Status;

use super::super::app::{App, Input, wrap_text};
use super::super::launch::{SignOffForm, WAIVER_FIELDS, WaiverForm};
use super::detail::{heading, label_value, wrapped_height};
use super::{column_after, field_view, fit, place_cursor, safe_line};

/// Width of the waiver and sign-off popups, in columns, when the screen is wide enough.
const POPUP_WIDTH: u16 = 76;

/// Returns the header's decision badge: GO, or NO-GO with what blocks it.
pub(super) fn decision_span(app: &App) -> Span<'static> {
    let decision = app.session.decision(app.session.now());
    if decision.go {
        let waived = decision.waived.len();
        let text = if waived == 0 {
            " GO ".to_string()
        } else {
            format!(" GO · {waived} waived ")
        };
        return Span::styled(text, app.theme.verdict_go);
    }
    let mut parts = vec![" NO-GO".to_string()];
    let blockers = decision.blockers.len();
    if blockers > 0 {
        let noun = if blockers == 1 { "blocker" } else { "blockers" };
        parts.push(format!("{blockers} {noun}"));
    }
    let missing = decision.missing_signoffs.len();
    if missing > 0 {
        let noun = if missing == 1 {
            "sign-off"
        } else {
            "sign-offs"
        };
        parts.push(format!("{missing} {noun} missing"));
    }
    Span::styled(format!("{} ", parts.join(" · ")), app.theme.verdict_nogo)
}

/// Returns the drift banner, or `None` when nothing drifted since a sign-off.
pub(super) fn drift_banner(app: &App) -> Option<Line<'static>> {
    let drift = app.session.drift();
    if drift.is_empty() {
        return None;
    }
    let changes: Vec<String> = drift
        .iter()
        .map(|line| {
            format!(
                "{} {} → {}",
                safe_line(&line.item),
                line.from.word(),
                line.to.word()
            )
        })
        .collect();
    Some(Line::from(Span::styled(
        format!(" DRIFT since sign-off: {}", changes.join("; ")),
        app.theme.error,
    )))
}

/// Adds the waiver of an item to the detail pane.
pub(super) fn waiver_lines(app: &App, item_id: &str, lines: &mut Vec<Line<'static>>) {
    let Some(waiver) = app.session.waiver(item_id) else {
        return;
    };
    let state = if waiver.is_active(app.session.now()) {
        "active"
    } else {
        "expired"
    };
    lines.push(heading(app, &format!("Waiver ({state})")));
    lines.push(label_value(app, "reason", &safe_line(&waiver.reason)));
    lines.push(label_value(app, "risk", waiver.risk.as_str()));
    lines.push(label_value(app, "control", &safe_line(&waiver.control)));
    lines.push(label_value(app, "expires", &waiver.expires.to_string()));
    lines.push(label_value(
        app,
        "requested",
        &safe_line(&waiver.requested_by),
    ));
    lines.push(label_value(
        app,
        "approved",
        &safe_line(&waiver.approved_by),
    ));
}

/// Returns the line under the blockers pane's "none" message when sign-offs are missing.
pub(super) fn missing_signoffs_line(app: &App) -> Option<Line<'static>> {
    let decision = app.session.decision(app.session.now());
    if decision.missing_signoffs.is_empty() {
        return None;
    }
    let ids: Vec<String> = decision
        .missing_signoffs
        .iter()
        .map(|missing| safe_line(&missing.id))
        .collect();
    Some(Line::from(Span::styled(
        format!("sign-offs missing: {} (s signs)", ids.join(", ")),
        app.theme.status(Status::Pending),
    )))
}

/// Draws the open waiver form or sign-off popup, if any.
pub(super) fn render_launch_popup(frame: &mut Frame, app: &App, area: Rect) {
    match &app.input {
        Some(Input::Waiver(form)) => render_waiver_form(frame, app, form, area),
        Some(Input::SignOff(form)) => render_signoff_form(frame, app, form, area),
        _ => {}
    }
}

/// Returns the key hints of the open waiver form or sign-off popup for the status line.
pub(super) fn popup_hint(input: &Input) -> Option<&'static str> {
    match input {
        Input::Waiver(_) => {
            Some(" waiver: Tab/↓ next field · Enter next, saves on the last · Esc cancels")
        }
        Input::SignOff(_) => {
            Some(" sign-off: ↑↓ choose · type your role · Enter signs · Esc cancels")
        }
        _ => None,
    }
}

/// Wraps a rejection message to the popup's width, so that the whole message shows inside the
/// popup.
fn error_rows(app: &App, error: &str, screen_width: u16) -> Vec<Line<'static>> {
    // Two border columns and the three columns of the " ✘ " prefix.
    let width = usize::from(POPUP_WIDTH.min(screen_width)).saturating_sub(5);
    wrap_text(&safe_line(error), width)
        .into_iter()
        .enumerate()
        .map(|(index, row)| {
            let prefix = if index == 0 { " ✘ " } else { "   " };
            Line::from(Span::styled(format!("{prefix}{row}"), app.theme.error))
        })
        .collect()
}

fn popup_area(area: Rect, height: u16) -> Rect {
    let [popup] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(POPUP_WIDTH.min(area.width))])
        .flex(Flex::Center)
        .areas(popup);
    popup
}

fn render_waiver_form(frame: &mut Frame, app: &App, form: &WaiverForm, area: Rect) {
    let mut lines = vec![Line::from(vec![
        Span::styled(" requested by ", app.theme.muted),
        Span::raw(safe_line(&app.actor)),
    ])];
    let label_width = WAIVER_FIELDS
        .iter()
        .map(|label| label.width())
        .max()
        .unwrap_or(0);
    let value_width = usize::from(POPUP_WIDTH.min(area.width)).saturating_sub(label_width + 6);
    let mut cursor_column = 0;
    for (index, label) in WAIVER_FIELDS.iter().enumerate() {
        let marker = if index == form.field { "▸" } else { " " };
        let (style, value) = if index == form.field {
            let (value, column) = field_view(&form.fields[index], value_width);
            cursor_column = column;
            (app.theme.selection, value)
        } else {
            let value = safe_line(form.fields[index].text());
            (ratatui::style::Style::new(), value)
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{marker}{label:<label_width$} "), app.theme.header),
            Span::styled(fit(&value, value_width), style),
        ]));
    }
    if let Some(error) = &form.error {
        lines.extend(error_rows(app, error, area.width));
    }
    // A long error wraps inside the popup, so the height counts wrapped rows.
    let inner_width = POPUP_WIDTH.min(area.width).saturating_sub(2);
    let height = wrapped_height(&lines, inner_width).saturating_add(2);
    let popup = popup_area(area, height);
    let block = Block::bordered()
        .border_style(app.theme.focused_border)
        .title(format!(" Waive {} ", safe_line(&form.item)));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        popup,
    );
    // Inside the border, the fields start on the second row, after the marker and the label.
    let field_row = popup.y.saturating_add(2).saturating_add(form.field as u16);
    let x = column_after(popup.x, 1 + 1 + label_width + 1 + cursor_column);
    place_cursor(frame, x, field_row, popup);
}

fn render_signoff_form(frame: &mut Frame, app: &App, form: &SignOffForm, area: Rect) {
    let mut lines = Vec::new();
    for (index, id) in form.pending.iter().enumerate() {
        let spec = app
            .session
            .required_signoffs()
            .iter()
            .find(|spec| &spec.id == id);
        let (title, role) = spec.map_or((String::new(), String::new()), |spec| {
            (safe_line(&spec.title), safe_line(&spec.role))
        });
        let marker = if index == form.selected { "▸ " } else { "  " };
        let style = if index == form.selected {
            app.theme.selection
        } else {
            ratatui::style::Style::new()
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{marker}{} ", safe_line(id)), style),
            Span::raw(title),
            Span::styled(format!(" (role {role})"), app.theme.muted),
        ]));
    }
    lines.push(Line::default());
    lines.push(Line::from(vec![
        Span::styled(" signing as ", app.theme.muted),
        Span::raw(safe_line(&app.actor)),
    ]));
    // Rows above the role, counted wrapped, place the cursor on the role's row.
    let inner_width = POPUP_WIDTH.min(area.width).saturating_sub(2);
    let role_row = wrapped_height(&lines, inner_width);
    let role_prompt = " your role: ";
    let role_width = usize::from(inner_width).saturating_sub(role_prompt.width() + 1);
    let (role, cursor_column) = field_view(&form.role, role_width);
    lines.push(Line::from(vec![
        Span::styled(role_prompt, app.theme.header),
        Span::raw(role),
    ]));
    if let Some(error) = &form.error {
        lines.extend(error_rows(app, error, area.width));
    }
    // A long error wraps inside the popup, so the height counts wrapped rows.
    let height = wrapped_height(&lines, inner_width).saturating_add(2);
    let popup = popup_area(area, height);
    let block = Block::bordered()
        .border_style(app.theme.focused_border)
        .title(" Sign off ");
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        popup,
    );
    let row = popup.y.saturating_add(1).saturating_add(role_row);
    let x = column_after(popup.x, 1 + role_prompt.width() + cursor_column);
    place_cursor(frame, x, row, popup);
}
