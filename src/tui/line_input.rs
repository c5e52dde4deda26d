//! The one-line text field behind every text input of the cockpit: the filter, notes, the
//! waiver and sign-off forms and the passphrase prompt.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use zeroize::Zeroize;

/// A one-line text with a cursor. Left, Right, Home and End move the cursor, and typing,
/// Backspace and Delete act at it. Ctrl-U clears the text and Ctrl-W deletes the word before
/// the cursor. Other characters typed with Ctrl or Alt are ignored, so that a shortcut never
/// inserts its letter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    text: String,
    /// Character index of the cursor in `text`, from 0 to the character count.
    cursor: usize,
}

impl LineInput {
    /// Creates an empty field.
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates a field holding `text`, with the cursor at its end.
    pub fn with_text(text: impl Into<String>) -> Self {
        let text = text.into();
        let cursor = text.chars().count();
        LineInput { text, cursor }
    }

    /// Creates an empty field that can hold `bytes` bytes without reallocating, so that a
    /// secret typed into it leaves no copies in freed memory.
    pub fn with_capacity(bytes: usize) -> Self {
        LineInput {
            text: String::with_capacity(bytes),
            cursor: 0,
        }
    }

    /// Returns the text typed so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Returns the character index of the cursor in [`LineInput::text`].
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Puts the cursor after the last character.
    pub fn move_to_end(&mut self) {
        self.cursor = self.text.chars().count();
    }

    /// Moves the text out, leaving the field empty.
    pub fn take_text(&mut self) -> String {
        self.cursor = 0;
        std::mem::take(&mut self.text)
    }

    /// Applies an editing key. Typing stops at `max_chars` characters. Keys that do not edit,
    /// such as Enter, Esc, Tab and Up, leave the field as it is.
    pub fn handle_key(&mut self, key: KeyEvent, max_chars: usize) {
        let control = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let count = self.text.chars().count();
        self.cursor = self.cursor.min(count);
        match key.code {
            KeyCode::Char('u' | 'U') if control && !alt => {
                self.text.clear();
                self.cursor = 0;
            }
            KeyCode::Char('w' | 'W') if control && !alt => self.delete_word_before_cursor(),
            KeyCode::Char(_) if control || alt => {}
            KeyCode::Char(ch) if !ch.is_control() && count < max_chars => {
                let at = self.byte_index(self.cursor);
                self.text.insert(at, ch);
                self.cursor += 1;
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(count),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = count,
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte_index(self.cursor);
                self.text.remove(at);
            }
            KeyCode::Delete if self.cursor < count => {
                let at = self.byte_index(self.cursor);
                self.text.remove(at);
            }
            _ => {}
        }
    }

    /// Deletes the spaces right before the cursor and the word before them, as Ctrl-W does in
    /// a shell.
    fn delete_word_before_cursor(&mut self) {
        let chars: Vec<char> = self.text.chars().collect();
        let mut start = self.cursor;
        while start > 0 && chars[start - 1].is_whitespace() {
            start -= 1;
        }
        while start > 0 && !chars[start - 1].is_whitespace() {
            start -= 1;
        }
        let from = self.byte_index(start);
        let to = self.byte_index(self.cursor);
        self.text.replace_range(from..to, "");
        self.cursor = start;
    }

    fn byte_index(&self, char_index: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_index)
            .map_or(self.text.len(), |(byte, _)| byte)
    }
}

impl Zeroize for LineInput {
    fn zeroize(&mut self) {
        self.text.zeroize();
        self.cursor = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(input: &mut LineInput, code: KeyCode) {
        input.handle_key(KeyEvent::new(code, KeyModifiers::NONE), 10);
    }

    fn control(input: &mut LineInput, ch: char) {
        input.handle_key(KeyEvent::new(KeyCode::Char(ch), KeyModifiers::CONTROL), 10);
    }

    #[test]
    fn moves_and_deletes_at_cursor() {
        let mut input = LineInput::with_text("ac");
        press(&mut input, KeyCode::Left);
        press(&mut input, KeyCode::Char('b'));
        assert_eq!(input.text(), "abc");
        press(&mut input, KeyCode::Home);
        press(&mut input, KeyCode::Delete);
        assert_eq!(input.text(), "bc");
        press(&mut input, KeyCode::End);
        press(&mut input, KeyCode::Backspace);
        assert_eq!(input.text(), "b");
        assert_eq!(input.cursor(), 1);
    }

    #[test]
    fn control_and_alt_letters_are_not_typed() {
        let mut input = LineInput::with_text("abc");
        control(&mut input, 'a');
        input.handle_key(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::ALT), 10);
        assert_eq!(input.text(), "abc");
        assert_eq!(input.cursor(), 3);
    }

    #[test]
    fn control_u_clears() {
        let mut input = LineInput::with_text("abc");
        press(&mut input, KeyCode::Left);
        control(&mut input, 'u');
        assert_eq!(input.text(), "");
        assert_eq!(input.cursor(), 0);
    }

    #[test]
    fn control_w_deletes_word_before_cursor() {
        let mut input = LineInput::with_text("one two  three");
        for _ in 0..5 {
            press(&mut input, KeyCode::Left);
        }
        control(&mut input, 'w');
        assert_eq!(input.text(), "one three");
        assert_eq!(input.cursor(), 4);
        control(&mut input, 'w');
        assert_eq!(input.text(), "three");
        control(&mut input, 'w');
        assert_eq!(input.text(), "three");
    }

    #[test]
    fn typing_stops_at_max_chars() {
        let mut input = LineInput::with_text("0123456789");
        press(&mut input, KeyCode::Char('x'));
        assert_eq!(input.text(), "0123456789");
    }

    #[test]
    fn edits_multibyte_text() {
        let mut input = LineInput::with_text("héllo");
        press(&mut input, KeyCode::Left);
        press(&mut input, KeyCode::Left);
        press(&mut input, KeyCode::Left);
        press(&mut input, KeyCode::Backspace);
        assert_eq!(input.text(), "hllo");
        assert_eq!(input.cursor(), 1);
    }
}
