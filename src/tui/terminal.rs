//! Entering and leaving the full-screen terminal mode.
//!
//! [`TerminalGuard`] switches the terminal to raw mode and the alternate screen and switches it
//! back when dropped, so a normal quit, Ctrl-C (a key in raw mode) and SIGTERM (handled by the
//! event loop, which then returns) all restore it. [`install_panic_hook`] covers panics, which
//! may unwind past the guard or abort.

use std::io::{self, Stdout};
use std::sync::Once;

use crossterm::{cursor, execute, terminal};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The ratatui terminal the cockpit draws on.
pub type Tui = Terminal<CrosstermBackend<Stdout>>;

/// Owns the terminal while it is in raw mode on the alternate screen; dropping it restores the
/// terminal.
pub struct TerminalGuard {
    terminal: Tui,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen. On failure the terminal is restored before the
    /// error is returned.
    pub fn enter() -> io::Result<TerminalGuard> {
        terminal::enable_raw_mode()?;
        let setup = execute!(io::stdout(), terminal::EnterAlternateScreen, cursor::Hide)
            .and_then(|()| Terminal::new(CrosstermBackend::new(io::stdout())));
        match setup {
            Ok(mut terminal) => {
                terminal.clear()?;
                Ok(TerminalGuard { terminal })
            }
            Err(err) => {
                restore();
                Err(err)
            }
        }
    }

    /// Returns the terminal to draw on.
    pub fn terminal(&mut self) -> &mut Tui {
        &mut self.terminal
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves the alternate screen, shows the cursor and disables raw mode. It is safe to call more
/// than once and when the terminal was never set up. Errors are ignored because this runs on
/// the way out, where nothing better can be done with them.
pub fn restore() {
    let _ = execute!(io::stdout(), terminal::LeaveAlternateScreen, cursor::Show);
    let _ = terminal::disable_raw_mode();
}

/// Installs a panic hook that restores the terminal and then runs the previous hook, so the
/// panic message is printed on a usable screen. Installing it more than once has no effect.
pub fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}
