//! Errors of the native module and the Python exceptions they become (the classes live in
//! `cloudtwin/errors.py`, with their attributes and docstrings):
//!
//! | error | exception |
//! |---|---|
//! | a bad scenario (file, line, key, message) | `cloudtwin.ScenarioError` |
//! | other bad input (a folder that exists, a bad sweep axis, a run too big) | `cloudtwin.InputError` |
//! | a failure (I/O, a failed sweep run, an internal panic) | `cloudtwin.RunError` |
//! | Ctrl-C | `KeyboardInterrupt` |

use cloudtwin::batch::BatchError;
use cloudtwin::output::results_dir::ResultsError;
use cloudtwin::scenario::{Origin, ScenarioError};
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Why a call failed.
#[derive(Debug)]
pub enum Error {
    Scenario(ScenarioError),
    Input(String),
    Run(String),
    Interrupted,
}

impl From<ScenarioError> for Error {
    fn from(e: ScenarioError) -> Self {
        Error::Scenario(e)
    }
}

/// Bad input other than a scenario's.
pub fn input(m: impl std::fmt::Display) -> Error {
    Error::Input(m.to_string())
}

/// A failure.
pub fn run_error(m: impl std::fmt::Display) -> Error {
    Error::Run(m.to_string())
}

/// A results folder that cannot be written: an existing folder is bad input, I/O a failure.
pub fn results(e: ResultsError) -> Error {
    match e {
        ResultsError::Exists(_) | ResultsError::NotResults(_) => input(e),
        ResultsError::Io { .. } => run_error(e),
    }
}

pub fn batch(e: BatchError) -> Error {
    match e {
        BatchError::BadInput(m) => Error::Input(m),
        BatchError::Failure(m) => Error::Run(m),
    }
}

/// An exception class of `cloudtwin.errors`, if the package is importable.
fn class<'py>(py: Python<'py>, name: &str) -> Option<Bound<'py, PyAny>> {
    py.import("cloudtwin.errors").ok()?.getattr(name).ok()
}

/// Raises `name(text, **attrs)`, or `fallback(text)` without the package.
fn raise(
    py: Python<'_>,
    name: &str,
    text: String,
    attrs: Option<Bound<'_, PyDict>>,
    fallback: fn(String) -> PyErr,
) -> PyErr {
    let Some(cls) = class(py, name) else {
        return fallback(text);
    };
    match cls.call((text.clone(),), attrs.as_ref()) {
        Ok(exc) => PyErr::from_value(exc),
        Err(_) => fallback(text),
    }
}

impl Error {
    /// The Python exception.
    pub fn into_py(self, py: Python<'_>) -> PyErr {
        match self {
            Error::Scenario(e) => {
                let attrs = PyDict::new(py);
                let (file, line, column, set) = match &e.origin {
                    Origin::File { path, line, column } => {
                        (Some(path.clone()), *line, *column, None)
                    }
                    Origin::Override(arg) => (None, None, None, Some(arg.clone())),
                };
                let filled = (|| -> PyResult<()> {
                    attrs.set_item("file", file)?;
                    attrs.set_item("line", line)?;
                    attrs.set_item("column", column)?;
                    attrs.set_item("key", &e.key)?;
                    attrs.set_item("message", &e.message)?;
                    attrs.set_item("override", set)?;
                    Ok(())
                })();
                if filled.is_err() {
                    return PyValueError::new_err(e.to_string());
                }
                raise(
                    py,
                    "ScenarioError",
                    e.to_string(),
                    Some(attrs),
                    PyValueError::new_err,
                )
            }
            Error::Input(m) => raise(py, "InputError", m, None, PyValueError::new_err),
            Error::Run(m) => raise(py, "RunError", m, None, PyRuntimeError::new_err),
            Error::Interrupted => PyKeyboardInterrupt::new_err("interrupted: nothing was written"),
        }
    }
}
