//! A journal kept in a local JSON Lines file.
