//! Drawing of evidence tables, such as an RBAC matrix or a status histogram, as text grids in
//! the detail pane and the full-screen view.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use crate::checks::{EvidenceCell, EvidenceTable};
use crate::session::Status;
use crate::tui::app::{App, wrap_text};

use super::detail::heading;
use super::{fit, safe_line};

/// Columns before the label column.
const INDENT: usize = 2;
/// Columns between two grid columns.
const GAP: usize = 2;
/// Narrowest a data column is cut to before the grid gives way to one line per cell.
const MIN_COLUMN: usize = 10;
/// Narrowest the label column is cut to.
const MIN_LABEL: usize = 8;
/// Width the last column gives up to before any other column is cut. Its longer cells wrap
/// onto the rows below instead of being cut, so narrowing it loses no text.
const LAST_COLUMN_ROOM: usize = 30;
/// Rows of one table shown before the rest is counted in a "more rows" line.
const MAX_ROWS: usize = 50;

/// Adds each table with its title: a grid with a header row when it fits in `width` columns,
/// otherwise one `label: column = cell` line per cell.
pub(super) fn table_lines(
    app: &App,
    tables: &[EvidenceTable],
    width: u16,
    lines: &mut Vec<Line<'static>>,
) {
    for table in tables {
        lines.push(heading(app, &safe_line(&table.title)));
        let shown = &table.rows[..table.rows.len().min(MAX_ROWS)];
        let grid = TextGrid::new(table, shown);
        match grid.widths(usize::from(width)) {
            Some((label_width, widths)) => {
                grid_lines(app, &grid, label_width, &widths, lines);
            }
            None => cell_lines(app, &grid, lines),
        }
        let hidden = table.rows.len() - shown.len();
        if hidden > 0 {
            let noun = if hidden == 1 { "row" } else { "rows" };
            lines.push(Line::from(Span::styled(
                format!("  … {hidden} more {noun}"),
                app.theme.muted,
            )));
        }
    }
}

/// A cell's display text with its mark, and whether it met its expectation.
type GridCell = (String, Option<bool>);

/// A table's text made safe for the terminal, with each cell's mark in front of its text.
struct TextGrid {
    columns: Vec<String>,
    rows: Vec<(String, Vec<GridCell>)>,
}

impl TextGrid {
    fn new(table: &EvidenceTable, rows: &[crate::checks::EvidenceRow]) -> Self {
        let columns: Vec<String> = table.columns.iter().map(|title| safe_line(title)).collect();
        let rows = rows
            .iter()
            .map(|row| {
                // A row with fewer cells than columns gets empty cells, so that columns line up.
                let mut cells: Vec<GridCell> = row
                    .cells
                    .iter()
                    .map(|cell| (cell_text(cell), cell.passed))
                    .collect();
                cells.resize(columns.len().max(cells.len()), (String::new(), None));
                (safe_line(&row.label), cells)
            })
            .collect();
        TextGrid { columns, rows }
    }

    fn column_count(&self) -> usize {
        self.rows
            .iter()
            .map(|(_, cells)| cells.len())
            .max()
            .unwrap_or(0)
            .max(self.columns.len())
    }

    fn column_title(&self, index: usize) -> &str {
        self.columns.get(index).map_or("", String::as_str)
    }

    /// Returns the label width and column widths that fit in `width`, or `None` when the grid
    /// does not fit. The last column, whose cells wrap, narrows first to [`LAST_COLUMN_ROOM`].
    /// Then columns are cut widest first, and the others never below the width of a failed
    /// cell, because a failed cell is the evidence a person needs to read.
    fn widths(&self, width: usize) -> Option<(usize, Vec<usize>)> {
        let count = self.column_count();
        let mut label_width = self
            .rows
            .iter()
            .map(|(label, _)| label.width())
            .max()
            .unwrap_or(0);
        let mut widths = Vec::with_capacity(count);
        let mut minimums = Vec::with_capacity(count);
        for index in 0..count {
            let cells = self.rows.iter().filter_map(|(_, cells)| cells.get(index));
            let natural = cells
                .clone()
                .map(|(text, _)| text.width())
                .chain([self.column_title(index).width()])
                .max()
                .unwrap_or(0);
            let failed = cells
                .filter(|(_, passed)| *passed == Some(false))
                .map(|(text, _)| text.width())
                .max()
                .unwrap_or(0);
            widths.push(natural);
            minimums.push(failed.max(MIN_COLUMN).min(natural));
        }
        let label_minimum = label_width.min(MIN_LABEL);
        let total = |label: usize, widths: &[usize]| {
            INDENT + label + widths.iter().map(|width| GAP + width).sum::<usize>()
        };
        if let Some(last) = count.checked_sub(1) {
            let room = LAST_COLUMN_ROOM.max(self.column_title(last).width());
            let floor = widths[last].min(room);
            minimums[last] = minimums[last].min(floor);
            let excess = total(label_width, &widths).saturating_sub(width);
            widths[last] -= excess.min(widths[last] - floor);
        }
        while total(label_width, &widths) > width {
            let widest = widths
                .iter()
                .zip(&minimums)
                .enumerate()
                .filter(|(_, (width, minimum))| width > minimum)
                .max_by_key(|(_, (width, _))| **width)
                .map(|(index, (width, _))| (index, *width));
            match widest {
                Some((_, column_width))
                    if label_width > label_minimum && label_width >= column_width =>
                {
                    label_width -= 1;
                }
                Some((index, _)) => widths[index] -= 1,
                None if label_width > label_minimum => label_width -= 1,
                None => return None,
            }
        }
        Some((label_width, widths))
    }
}

fn cell_text(cell: &EvidenceCell) -> String {
    let text = safe_line(&cell.text);
    match cell.passed {
        Some(true) => format!("{} {text}", Status::Pass.symbol()),
        Some(false) => format!("{} {text}", Status::Fail.symbol()),
        None => text,
    }
}

fn cell_style(app: &App, passed: Option<bool>) -> Style {
    match passed {
        Some(true) => app.theme.status(Status::Pass),
        Some(false) => app.theme.status(Status::Fail),
        None => Style::new(),
    }
}

fn grid_lines(
    app: &App,
    grid: &TextGrid,
    label_width: usize,
    widths: &[usize],
    lines: &mut Vec<Line<'static>>,
) {
    let gap = " ".repeat(GAP);
    if grid.columns.iter().any(|title| !title.is_empty()) {
        lines.push(header_line(app, grid, label_width, widths));
    }
    // Rows that continue a wrapped last cell start where the last column starts.
    let last_column_start = INDENT
        + label_width
        + widths
            .iter()
            .take(widths.len().saturating_sub(1))
            .map(|width| GAP + width)
            .sum::<usize>()
        + GAP;
    for (label, cells) in &grid.rows {
        let mut spans = vec![Span::raw(format!(
            "{}{}",
            " ".repeat(INDENT),
            fit(label, label_width)
        ))];
        let mut continued = Vec::new();
        for (index, ((text, passed), width)) in cells.iter().zip(widths).enumerate() {
            spans.push(Span::raw(gap.clone()));
            let style = cell_style(app, *passed);
            if index + 1 == widths.len() && text.width() > *width {
                let mut rows = wrap_text(text, *width).into_iter();
                spans.push(Span::styled(rows.next().unwrap_or_default(), style));
                continued.extend(rows.map(|row| {
                    Line::from(vec![
                        Span::raw(" ".repeat(last_column_start)),
                        Span::styled(row, style),
                    ])
                }));
            } else {
                spans.push(Span::styled(fit(text, *width), style));
            }
        }
        lines.push(Line::from(spans));
        lines.extend(continued);
    }
}

fn header_line(app: &App, grid: &TextGrid, label_width: usize, widths: &[usize]) -> Line<'static> {
    let mut header = " ".repeat(INDENT + label_width);
    for (index, width) in widths.iter().enumerate() {
        header.push_str(&" ".repeat(GAP));
        header.push_str(&fit(grid.column_title(index), *width));
    }
    Line::from(Span::styled(header.trim_end().to_string(), app.theme.muted))
}

fn cell_lines(app: &App, grid: &TextGrid, lines: &mut Vec<Line<'static>>) {
    for (label, cells) in &grid.rows {
        if cells.is_empty() {
            lines.push(Line::from(format!("  {label}")));
        }
        for (index, (text, passed)) in cells.iter().enumerate() {
            lines.push(Line::from(vec![
                Span::styled(
                    format!("  {label}: {} = ", grid.column_title(index)),
                    app.theme.muted,
                ),
                Span::styled(text.clone(), cell_style(app, *passed)),
            ]));
        }
    }
}
