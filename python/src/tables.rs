//! Tables as Arrow record batches, typed as in Parquet files (`cloudtwin::output::columns`),
//! and handed to pyarrow through the Arrow C data interface (no CSV text crosses over).

use crate::errors::{Error, input, run_error};
use arrow_array::RecordBatch;
use arrow_pyarrow::ToPyArrow;
use cloudtwin::output::names::file;
use cloudtwin::output::{Table, columns, parquet};
use pyo3::prelude::*;
use pyo3::types::PyList;
use std::path::Path;

/// `vm_states.csv` -> `vm_states`.
pub fn stem(name: &str) -> &str {
    name.strip_suffix(".csv")
        .or_else(|| name.strip_suffix(".parquet"))
        .unwrap_or(name)
}

/// Every table as `(stem, batch)`.
pub fn batches(tables: &[Table]) -> Result<Vec<(String, RecordBatch)>, Error> {
    tables
        .iter()
        .map(|t| {
            let b = columns::record_batch(t).map_err(|e| run_error(format!("{}: {e}", t.name)))?;
            Ok((stem(&t.name).to_string(), b))
        })
        .collect()
}

pub fn batch_to_py<'py>(py: Python<'py>, b: &RecordBatch) -> PyResult<Bound<'py, PyAny>> {
    b.to_pyarrow(py)
}

/// `[(stem, pyarrow.RecordBatch)]`.
pub fn to_py<'py>(
    py: Python<'py>,
    batches: Vec<(String, RecordBatch)>,
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for (name, b) in batches {
        list.append((name, batch_to_py(py, &b)?))?;
    }
    Ok(list)
}

/// Table `csv_name` of folder `dir` as one batch: from its Parquet file (the types it was
/// written with) if there is one, else from its CSV file (typed as a run types it). `None`
/// when it is in neither format.
pub fn read_batch(dir: &Path, csv_name: &str) -> Result<Option<RecordBatch>, Error> {
    let pq = dir.join(parquet::file_name(csv_name));
    if pq.is_file() {
        let (schema, batches) =
            parquet::read_batches(&pq).map_err(|e| run_error(format!("{}: {e}", pq.display())))?;
        let one = arrow_select::concat::concat_batches(&schema, &batches)
            .map_err(|e| run_error(format!("{}: {e}", pq.display())))?;
        return Ok(Some(one));
    }
    let csv = dir.join(csv_name);
    if !csv.is_file() {
        return Ok(None);
    }
    let bytes = std::fs::read(&csv).map_err(|e| run_error(format!("{}: {e}", csv.display())))?;
    let t = Table::from_csv(csv_name, &bytes)
        .map_err(|e| run_error(format!("{}: {e}", csv.display())))?;
    columns::record_batch(&t)
        .map(Some)
        .map_err(|e| run_error(format!("{}: {e}", csv.display())))
}

/// A results folder: its summary rows and every other table, by name.
#[allow(clippy::type_complexity)]
pub fn read_folder(
    dir: &Path,
) -> Result<(Vec<(String, Option<f64>)>, Vec<(String, RecordBatch)>), Error> {
    if !cloudtwin::output::read::exists(dir, file::SUMMARY) {
        return Err(input(format!(
            "{} is not a results folder (no {} nor its Parquet file)",
            dir.display(),
            file::SUMMARY
        )));
    }
    let summary = cloudtwin::batch::summary::read_run_summary(dir).map_err(crate::errors::batch)?;
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| run_error(format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| !n.starts_with('.') && (n.ends_with(".csv") || n.ends_with(".parquet")))
        .map(|n| format!("{}.csv", stem(&n)))
        .filter(|n| n != file::SUMMARY)
        .collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for n in names {
        if let Some(b) = read_batch(dir, &n)? {
            out.push((stem(&n).to_string(), b));
        }
    }
    Ok((summary, out))
}
