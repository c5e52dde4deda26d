//! Making text from the network safe for a terminal.

/// Returns the text with every control character other than newline and tab replaced by a
/// visible escape, so that no escape sequence from a response can reach the terminal.
/// Invalid UTF-8 must already have been replaced (for example by `String::from_utf8_lossy`).
pub fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\n' | '\t' => out.push(ch),
            '\r' => {}
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c if is_bidi_control(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Returns whether the character is a bidirectional override or isolate, which can reorder
/// what a person reads on screen.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Returns at most `max_chars` characters of `text`, marking a cut with an ellipsis.
pub fn truncate_chars(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Decodes bytes as UTF-8 with replacement characters, then makes the text terminal-safe.
pub fn bytes_to_safe_text(bytes: &[u8]) -> String {
    terminal_safe(&String::from_utf8_lossy(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_neutralised() {
        let out = terminal_safe("ok\x1b[2Jgone\x07");
        assert!(!out.contains('\x1b'));
        assert!(!out.contains('\x07'));
        assert_eq!(out, "ok\\u{1b}[2Jgone\\u{7}");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let out = bytes_to_safe_text(b"a\xff\xfeb");
        assert_eq!(out, "a\u{fffd}\u{fffd}b");
    }

    #[test]
    fn truncate_marks_cut() {
        assert_eq!(truncate_chars("abcdef", 3), "abc…");
        assert_eq!(truncate_chars("abc", 3), "abc");
    }
}
