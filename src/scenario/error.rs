//! Errors found while reading a scenario: where (file and line, or the `--set` argument), which
//! key, and what was expected.

use std::fmt;

/// Where a bad value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A scenario file, with the 1-based line and column when known.
    File {
        path: String,
        line: Option<usize>,
        column: Option<usize>,
    },
    /// A `--set key=value` argument.
    Override(String),
}

/// A scenario that cannot be used, described for a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub origin: Origin,
    /// Dotted key path, e.g. `topology.clouds[3].region` (empty for file-level errors).
    pub key: String,
    pub message: String,
}

impl ScenarioError {
    pub fn file(path: &str, key: impl Into<String>, message: impl Into<String>) -> Self {
        ScenarioError {
            origin: Origin::File {
                path: path.to_string(),
                line: None,
                column: None,
            },
            key: key.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::File { path, line, column } => {
                write!(f, "{path}")?;
                if let Some(l) = line {
                    write!(f, ":{l}")?;
                    if let Some(c) = column {
                        write!(f, ":{c}")?;
                    }
                }
            }
            Origin::Override(arg) => write!(f, "--set {arg}")?,
        }
        // User-written keys and values are echoed: escape control characters so an error
        // is always one line.
        if !self.key.is_empty() {
            write!(f, ": key `{}`", one_line(&self.key))?;
        }
        write!(f, ": {}", one_line(&self.message))
    }
}

impl std::error::Error for ScenarioError {}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// 1-based (line, column) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |i| offset - i - 1) + 1;
    (line, col)
}
