//! Colour themes: named styles read from a TOML file.
//!
//! A theme file has one table per style (`[header]`, `[selection]`, `[status.pass]`, ...), each
//! with optional `fg`, `bg` and `modifiers` keys. Colours are names (`red`, `light_blue`,
//! `dark_gray`, `reset`, ...), `#rrggbb`, or a 0–255 palette index. A style the file leaves out
//! has no colour and no modifier. Unknown keys and invalid values are errors that name the file
//! and line.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use toml::Spanned;

use crate::session::Status;

/// The built-in dark theme, so that the binary works from any folder.
const BUILTIN_DARK: &str = include_str!("../../themes/dark.toml");
/// The built-in light theme.
const BUILTIN_LIGHT: &str = include_str!("../../themes/light.toml");

/// The styles the cockpit draws with.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Theme {
    /// Theme name, or the file path when loaded from a path.
    pub name: String,
    pub header: Style,
    pub verdict_go: Style,
    pub verdict_nogo: Style,
    pub border: Style,
    /// Border of the pane that has keyboard focus.
    pub focused_border: Style,
    /// The selected row of a list.
    pub selection: Style,
    /// Secondary text such as labels and hints.
    pub muted: Style,
    /// Error messages.
    pub error: Style,
    pub statuses: StatusStyles,
}

/// One style per item [`Status`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatusStyles {
    pub pending: Style,
    pub running: Style,
    pub pass: Style,
    pub fail: Style,
    pub error: Style,
    pub blocked: Style,
    pub done: Style,
    pub failed: Style,
    /// An item that counts toward GO only because of a waiver. Themes without a
    /// `[status.waived]` table get [`default_waived_style`].
    pub waived: Style,
}

/// A theme that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error(
        "theme `{name}` not found: looked for {searched}; the built-in themes are dark and light"
    )]
    NotFound { name: String, searched: String },
    #[error("cannot read theme file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid theme file {path}:{line}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

impl Theme {
    /// Returns the style of an item status.
    pub fn status(&self, status: Status) -> Style {
        let styles = &self.statuses;
        match status {
            Status::Pending => styles.pending,
            Status::Running => styles.running,
            Status::Pass => styles.pass,
            Status::Fail => styles.fail,
            Status::Error => styles.error,
            Status::Blocked => styles.blocked,
            Status::Done => styles.done,
            Status::Failed => styles.failed,
            Status::Waived => styles.waived,
        }
    }

    /// Returns the built-in dark theme.
    pub fn builtin_dark() -> Theme {
        // The embedded file is covered by a unit test, so a parse failure here is a build bug.
        parse(
            BUILTIN_DARK,
            Path::new("themes/dark.toml (built-in)"),
            "dark",
        )
        .unwrap_or_else(|_| Theme::monochrome("dark"))
    }

    /// Builds a theme with no colours, where only modifiers such as bold and reversed mark
    /// things.
    pub fn monochrome(name: &str) -> Theme {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        Theme {
            name: name.to_string(),
            header: bold,
            verdict_go: bold.add_modifier(Modifier::REVERSED),
            verdict_nogo: bold.add_modifier(Modifier::REVERSED),
            border: Style::new(),
            focused_border: bold,
            selection: Style::new().add_modifier(Modifier::REVERSED),
            muted: Style::new().add_modifier(Modifier::DIM),
            error: bold,
            statuses: StatusStyles {
                fail: bold,
                error: bold,
                failed: bold,
                waived: Style::new().add_modifier(Modifier::ITALIC),
                ..StatusStyles::default()
            },
        }
    }

    /// Removes every colour and keeps the modifiers, making sure that the selection, the focused
    /// border and the verdict stay visible without colour.
    pub fn without_colours(&self) -> Theme {
        let strip = |style: Style| Style::new().add_modifier(style.add_modifier);
        let statuses = &self.statuses;
        Theme {
            name: self.name.clone(),
            header: strip(self.header),
            verdict_go: strip(self.verdict_go).add_modifier(Modifier::BOLD | Modifier::REVERSED),
            verdict_nogo: strip(self.verdict_nogo)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            border: strip(self.border),
            focused_border: strip(self.focused_border).add_modifier(Modifier::BOLD),
            selection: strip(self.selection).add_modifier(Modifier::REVERSED),
            muted: strip(self.muted),
            error: strip(self.error).add_modifier(Modifier::BOLD),
            statuses: StatusStyles {
                pending: strip(statuses.pending),
                running: strip(statuses.running),
                pass: strip(statuses.pass),
                fail: strip(statuses.fail),
                error: strip(statuses.error),
                blocked: strip(statuses.blocked),
                done: strip(statuses.done),
                failed: strip(statuses.failed),
                waived: strip(statuses.waived).add_modifier(Modifier::ITALIC),
            },
        }
    }
}

/// Returns the style of waived items in themes that set none: yellow and italic, so that a
/// waived item never looks like a passed one.
pub fn default_waived_style() -> Style {
    Style::new()
        .fg(Color::Yellow)
        .add_modifier(Modifier::ITALIC)
}

/// Returns whether the `NO_COLOR` environment variable requests output without colour, which
/// no-color.org defines as set and not empty.
pub fn no_color_from_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty())
}

/// Loads a theme by name or path.
///
/// A value containing `/` or ending in `.toml` is a path. A name is looked up as
/// `themes/NAME.toml` in the current folder, then in a `themes` folder next to the executable,
/// then among the built-in themes (`dark`, `light`). With `no_color`, or with `NO_COLOR` set in
/// the environment, every colour is removed.
pub fn load(name_or_path: &str, no_color: bool) -> Result<Theme, ThemeError> {
    let theme = load_coloured(name_or_path)?;
    if no_color || no_color_from_env() {
        Ok(theme.without_colours())
    } else {
        Ok(theme)
    }
}

fn load_coloured(name_or_path: &str) -> Result<Theme, ThemeError> {
    if name_or_path.contains('/') || name_or_path.ends_with(".toml") {
        let path = PathBuf::from(name_or_path);
        return read_file(&path, name_or_path);
    }
    let file_name = format!("{name_or_path}.toml");
    let mut candidates = vec![Path::new("themes").join(&file_name)];
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        candidates.push(dir.join("themes").join(&file_name));
    }
    if let Some(path) = candidates.iter().find(|path| path.is_file()) {
        return read_file(path, name_or_path);
    }
    let builtin = match name_or_path {
        "dark" => Some(BUILTIN_DARK),
        "light" => Some(BUILTIN_LIGHT),
        _ => None,
    };
    match builtin {
        Some(text) => {
            let path = PathBuf::from(format!("themes/{file_name} (built-in)"));
            parse(text, &path, name_or_path)
        }
        None => Err(ThemeError::NotFound {
            name: name_or_path.to_string(),
            searched: candidates
                .iter()
                .map(|path| path.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

fn read_file(path: &Path, name: &str) -> Result<Theme, ThemeError> {
    let text = std::fs::read_to_string(path).map_err(|source| ThemeError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path, name)
}

/// The file as written: every table optional, unknown keys rejected.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    header: Option<StyleSpec>,
    verdict_go: Option<StyleSpec>,
    verdict_nogo: Option<StyleSpec>,
    border: Option<StyleSpec>,
    focused_border: Option<StyleSpec>,
    selection: Option<StyleSpec>,
    muted: Option<StyleSpec>,
    error: Option<StyleSpec>,
    #[serde(default)]
    status: StatusFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusFile {
    pending: Option<StyleSpec>,
    running: Option<StyleSpec>,
    pass: Option<StyleSpec>,
    fail: Option<StyleSpec>,
    error: Option<StyleSpec>,
    blocked: Option<StyleSpec>,
    done: Option<StyleSpec>,
    failed: Option<StyleSpec>,
    waived: Option<StyleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a style table with `fg`, `bg` and `modifiers` keys"
)]
struct StyleSpec {
    fg: Option<Spanned<String>>,
    bg: Option<Spanned<String>>,
    #[serde(default)]
    modifiers: Vec<Spanned<String>>,
}

/// Parses theme text. `path` only names the source in errors.
pub fn parse(text: &str, path: &Path, name: &str) -> Result<Theme, ThemeError> {
    let invalid = |offset: usize, message: String| {
        let (line, _) = crate::config::line_column(text, offset);
        ThemeError::Invalid {
            path: path.to_path_buf(),
            line,
            message,
        }
    };
    let file: ThemeFile = toml::from_str(text).map_err(|err| {
        let offset = err.span().map_or(0, |span| span.start);
        invalid(offset, err.message().trim().to_string())
    })?;
    let style = |spec: &Option<StyleSpec>| -> Result<Style, ThemeError> {
        match spec {
            Some(spec) => spec_to_style(spec).map_err(|(offset, message)| invalid(offset, message)),
            None => Ok(Style::new()),
        }
    };
    let status = &file.status;
    Ok(Theme {
        name: name.to_string(),
        header: style(&file.header)?,
        verdict_go: style(&file.verdict_go)?,
        verdict_nogo: style(&file.verdict_nogo)?,
        border: style(&file.border)?,
        focused_border: style(&file.focused_border)?,
        selection: style(&file.selection)?,
        muted: style(&file.muted)?,
        error: style(&file.error)?,
        statuses: StatusStyles {
            pending: style(&status.pending)?,
            running: style(&status.running)?,
            pass: style(&status.pass)?,
            fail: style(&status.fail)?,
            error: style(&status.error)?,
            blocked: style(&status.blocked)?,
            done: style(&status.done)?,
            failed: style(&status.failed)?,
            waived: match &status.waived {
                Some(_) => style(&status.waived)?,
                None => default_waived_style(),
            },
        },
    })
}

/// Converts one style table, returning the byte offset and message of the first invalid value.
fn spec_to_style(spec: &StyleSpec) -> Result<Style, (usize, String)> {
    let mut style = Style::new();
    if let Some(fg) = &spec.fg {
        style = style.fg(parse_colour(fg)?);
    }
    if let Some(bg) = &spec.bg {
        style = style.bg(parse_colour(bg)?);
    }
    for modifier in &spec.modifiers {
        style = style.add_modifier(parse_modifier(modifier)?);
    }
    Ok(style)
}

fn parse_colour(value: &Spanned<String>) -> Result<Color, (usize, String)> {
    Color::from_str(value.get_ref()).map_err(|_| {
        (
            value.span().start,
            format!(
                "invalid colour `{}`: use a colour name such as `light_blue`, `#rrggbb` or a \
                 palette index 0-255",
                value.get_ref()
            ),
        )
    })
}

fn parse_modifier(value: &Spanned<String>) -> Result<Modifier, (usize, String)> {
    let modifier = match value.get_ref().as_str() {
        "bold" => Modifier::BOLD,
        "dim" => Modifier::DIM,
        "italic" => Modifier::ITALIC,
        "underlined" => Modifier::UNDERLINED,
        "reversed" => Modifier::REVERSED,
        "crossed_out" => Modifier::CROSSED_OUT,
        other => {
            return Err((
                value.span().start,
                format!(
                    "invalid modifier `{other}`: valid modifiers are bold, dim, italic, \
                     underlined, reversed, crossed_out"
                ),
            ));
        }
    };
    Ok(modifier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_themes_parse() {
        for (name, text) in [("dark", BUILTIN_DARK), ("light", BUILTIN_LIGHT)] {
            let theme = parse(text, Path::new(name), name);
            assert!(theme.is_ok(), "{name}: {theme:?}");
        }
    }

    #[test]
    fn builtin_dark_has_colours() {
        let theme = Theme::builtin_dark();
        assert!(theme.statuses.pass.fg.is_some());
    }

    #[test]
    fn hex_and_named_colours_parse() {
        let text = "[header]\nfg = \"#102030\"\nbg = \"light_blue\"\nmodifiers = [\"bold\"]\n";
        let theme = parse(text, Path::new("t.toml"), "t").unwrap();
        assert_eq!(theme.header.fg, Some(Color::Rgb(0x10, 0x20, 0x30)));
        assert_eq!(theme.header.bg, Some(Color::LightBlue));
        assert!(theme.header.add_modifier.contains(Modifier::BOLD));
    }

    #[test]
    fn bad_colour_names_file_line_value() {
        let text = "[header]\nfg = \"white\"\n\n[muted]\nfg = \"blurple\"\n";
        let err = parse(text, Path::new("themes/x.toml"), "x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("themes/x.toml:5"), "{err}");
        assert!(err.contains("blurple"), "{err}");
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let text = "[header]\nfg = \"white\"\nshade = \"x\"\n";
        let err = parse(text, Path::new("themes/x.toml"), "x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("themes/x.toml:3"), "{err}");
        assert!(err.contains("shade"), "{err}");
    }

    #[test]
    fn unknown_status_names_line() {
        let text = "[status.passed]\nfg = \"green\"\n";
        let err = parse(text, Path::new("t.toml"), "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("t.toml:1"), "{err}");
        assert!(err.contains("passed"), "{err}");
    }

    #[test]
    fn bad_modifier_rejected() {
        let text = "[header]\nmodifiers = [\"blink\"]\n";
        let err = parse(text, Path::new("t.toml"), "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("blink"), "{err}");
    }

    #[test]
    fn without_colours_keeps_selection_visible() {
        let theme = Theme::builtin_dark().without_colours();
        assert_eq!(theme.selection.fg, None);
        assert_eq!(theme.selection.bg, None);
        assert!(theme.selection.add_modifier.contains(Modifier::REVERSED));
        assert_eq!(theme.statuses.fail.fg, None);
    }

    #[test]
    fn load_builtin_by_name_from_any_folder() {
        let theme = load("light", true).unwrap();
        assert_eq!(theme.name, "light");
    }

    #[test]
    fn load_unknown_name_is_not_found() {
        let err = load("no-such-theme-name", false).unwrap_err();
        assert!(matches!(err, ThemeError::NotFound { .. }), "{err}");
    }

    #[test]
    fn load_path_reads_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.toml");
        std::fs::write(&path, "[error]\nfg = \"red\"\n").unwrap();
        let theme = load(path.to_str().unwrap(), false).unwrap();
        assert!(theme.error.fg == Some(Color::Red) || no_color_from_env());
    }
}
