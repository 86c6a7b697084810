//! A mistake found while building a plan: the scenario key it is about and what is wrong.
//! The scenario loader turns it into a [`crate::scenario::ScenarioError`] with the file and line
//! (or the `--set` argument) of that key.

use std::fmt;

/// A planning error: the key path (`monitoring.collectors.count`, `mcis[0].groups[1].cloud`)
/// and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanError {
    pub key: String,
    pub message: String,
}

impl PlanError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        PlanError {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key `{}`: {}", self.key, self.message)
    }
}

impl std::error::Error for PlanError {}

/// Checks that a duration is not zero.
pub fn positive(key: &str, d: crate::engine::SimDuration) -> Result<(), PlanError> {
    if d.is_zero() {
        return Err(PlanError::new(key, "must be longer than 0s"));
    }
    Ok(())
}

/// Checks that a count is at least 1.
pub fn at_least_one(key: &str, v: u32) -> Result<(), PlanError> {
    if v == 0 {
        return Err(PlanError::new(key, "must be at least 1"));
    }
    Ok(())
}
