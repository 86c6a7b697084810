//! Reading a table of a results or sweep folder in whichever format it was written:
//! `<name>.csv`, else `<stem>.parquet` (`output.formats`). Readers (`report`, `merge`, the
//! sweep summary) name tables by their CSV name and get rows of CSV cells either way.

use super::parquet;
use std::path::{Path, PathBuf};

/// Where a table is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Csv(PathBuf),
    Parquet(PathBuf),
}

impl Source {
    pub fn path(&self) -> &Path {
        match self {
            Source::Csv(p) | Source::Parquet(p) => p,
        }
    }
}

/// A table that cannot be read: its file and why.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ReadError {
    pub path: String,
    pub message: String,
}

fn err(path: &Path, e: impl std::fmt::Display) -> ReadError {
    ReadError {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// The file of table `csv_name` (e.g. `summary.csv`) in `dir`: the CSV file if there is one,
/// else the Parquet file.
pub fn locate(dir: &Path, csv_name: &str) -> Option<Source> {
    let csv = dir.join(csv_name);
    if csv.is_file() {
        return Some(Source::Csv(csv));
    }
    let pq = dir.join(parquet::file_name(csv_name));
    pq.is_file().then_some(Source::Parquet(pq))
}

/// Is table `csv_name` in `dir`, in either format?
pub fn exists(dir: &Path, csv_name: &str) -> bool {
    locate(dir, csv_name).is_some()
}

/// A table's header and rows of cells.
pub type Rows = (Vec<String>, Vec<Vec<String>>);

/// Header and rows of table `csv_name` in `dir`; `None` when it is in neither format. CSV rows
/// may be shorter than the header.
pub fn read(dir: &Path, csv_name: &str) -> Result<Option<Rows>, ReadError> {
    let mut header = Vec::new();
    let mut rows = Vec::new();
    let found = stream(dir, csv_name, |h, rec| {
        if header.is_empty() {
            header = h.to_vec();
        }
        rows.push(rec.iter().map(str::to_string).collect());
    })?;
    let Some(source) = found.map(|_| locate(dir, csv_name).expect("just read")) else {
        return Ok(None);
    };
    if header.is_empty() {
        header = read_header(&source)?;
    }
    Ok(Some((header, rows)))
}

/// The header of a table file (for one without rows).
fn read_header(source: &Source) -> Result<Vec<String>, ReadError> {
    match source {
        Source::Csv(p) => {
            let mut r = csv::ReaderBuilder::new()
                .has_headers(true)
                .flexible(true)
                .from_path(p)
                .map_err(|e| err(p, e))?;
            Ok(r.headers()
                .map_err(|e| err(p, e))?
                .iter()
                .map(str::to_string)
                .collect())
        }
        Source::Parquet(p) => Ok(parquet::read_table(p, "").map_err(|e| err(p, e))?.header),
    }
}

/// Streams the rows of table `csv_name` in `dir` (for files too large to hold): `f` gets the
/// header and each row. `None` when the table is in neither format, else the number of rows.
pub fn stream(
    dir: &Path,
    csv_name: &str,
    mut f: impl FnMut(&[String], &csv::StringRecord),
) -> Result<Option<usize>, ReadError> {
    let Some(source) = locate(dir, csv_name) else {
        return Ok(None);
    };
    match &source {
        Source::Csv(path) => {
            let file = std::fs::File::open(path).map_err(|e| err(path, e))?;
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(true)
                .flexible(true)
                .from_reader(std::io::BufReader::new(file));
            let header: Vec<String> = rdr
                .headers()
                .map_err(|e| err(path, e))?
                .iter()
                .map(str::to_string)
                .collect();
            let mut rec = csv::StringRecord::new();
            let mut n = 0;
            while rdr.read_record(&mut rec).map_err(|e| err(path, e))? {
                f(&header, &rec);
                n += 1;
            }
            Ok(Some(n))
        }
        Source::Parquet(path) => {
            let mut rec = csv::StringRecord::new();
            let n = parquet::stream(path, |header, row| {
                rec.clear();
                for c in row {
                    rec.push_field(c);
                }
                f(header, &rec);
            })
            .map_err(|e| err(path, e))?;
            Ok(Some(n))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Table;

    #[test]
    fn either_format_gives_the_same_rows() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = Table::new("a.csv", &["metric", "value"]);
        t.push(vec!["x".into(), "1".into()]);
        t.push(vec!["y".into(), "".into()]);
        std::fs::write(dir.path().join("a.csv"), t.to_csv()).unwrap();
        parquet::write_file(&t, &dir.path().join("b.parquet")).unwrap();
        let a = read(dir.path(), "a.csv").unwrap().unwrap();
        let b = read(dir.path(), "b.csv").unwrap().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.1[1], ["y", ""]);
        assert!(read(dir.path(), "c.csv").unwrap().is_none());
        assert!(exists(dir.path(), "b.csv") && !exists(dir.path(), "c.csv"));
        std::fs::write(dir.path().join("d.csv"), "h1,h2\n").unwrap();
        assert_eq!(read(dir.path(), "d.csv").unwrap().unwrap().0, ["h1", "h2"]);
    }
}
