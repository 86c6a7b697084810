//! Typed columns of a table, for the columnar outputs: Parquet files ([`super::parquet`]) and
//! the Arrow record batches the Python package hands to pandas.
//!
//! A [`Table`] holds CSV text; each column gets one type, inferred deterministically from all
//! of its cells (the same cells always give the same types, so equal runs give equal files):
//!
//! | cells (empty cells are nulls and do not count) | type |
//! |---|---|
//! | all `true` / `false` | `Boolean` |
//! | all integers (`-?[0-9]+`, no leading zero) | `Int64`, but `Float64` for a name ending in `_s` or `_ms` |
//! | all numbers (as `fmt_f64` writes them, `inf` included) | `Float64` |
//! | anything else | `Utf8` (dictionary-encoded in Parquet files) |
//! | none (every cell empty, or no rows) | `Float64` for a name ending in `_s` or `_ms`, or for a table with rows (as pandas reads an empty CSV column); else `Utf8` |
//!
//! Times and durations (`time_s`, `delay_p95_ms`, ...) are always float seconds or
//! milliseconds, so a run whose times happen to be whole seconds has the same schema as one
//! whose times are not. Counts stay integers.

use super::Table;
use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use std::sync::Arc;

/// The type of one column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    Boolean,
    Int64,
    Float64,
    Utf8,
}

impl ColumnType {
    pub fn data_type(self) -> DataType {
        match self {
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::Int64 => DataType::Int64,
            ColumnType::Float64 => DataType::Float64,
            ColumnType::Utf8 => DataType::Utf8,
        }
    }
}

/// Rows per record batch written (a Parquet row group holds many).
pub const BATCH_ROWS: usize = 64 * 1024;

/// A column of seconds or milliseconds: always `Float64`.
pub fn is_measure(name: &str) -> bool {
    name.ends_with("_s") || name.ends_with("_ms")
}

/// An integer cell as the models write them: `-?[0-9]+` without a leading zero.
pub fn is_int(cell: &str) -> bool {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && cell != "-0"
        && cell.parse::<i64>().is_ok()
}

/// A number cell as `fmt_f64` writes them (`inf` and `-inf` included; NaN is an empty cell;
/// a leading zero before a digit, as in `01`, makes it text).
pub fn is_float(cell: &str) -> bool {
    let unsigned = cell.trim_start_matches(['-', '+']).as_bytes();
    if unsigned.len() > 1 && unsigned[0] == b'0' && unsigned[1].is_ascii_digit() {
        return false;
    }
    matches!(cell, "inf" | "-inf")
        || (cell.bytes().any(|b| b.is_ascii_digit())
            && cell
                .bytes()
                .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
            && cell.parse::<f64>().is_ok())
}

fn is_bool(cell: &str) -> bool {
    cell == "true" || cell == "false"
}

/// What the cells of one column seen so far allow.
#[derive(Clone, Copy, Debug)]
struct Seen {
    any: bool,
    bools: bool,
    ints: bool,
    floats: bool,
}

impl Seen {
    const NONE: Seen = Seen {
        any: false,
        bools: true,
        ints: true,
        floats: true,
    };

    fn add(&mut self, cell: &str) {
        if cell.is_empty() {
            return;
        }
        self.any = true;
        self.bools = self.bools && is_bool(cell);
        self.ints = self.ints && !self.bools && is_int(cell);
        self.floats = self.floats && !self.bools && is_float(cell);
    }

    fn decide(self, name: &str, has_rows: bool) -> ColumnType {
        if !self.any {
            return if is_measure(name) || has_rows {
                ColumnType::Float64
            } else {
                ColumnType::Utf8
            };
        }
        if self.bools {
            ColumnType::Boolean
        } else if self.ints && !is_measure(name) {
            ColumnType::Int64
        } else if self.floats {
            ColumnType::Float64
        } else {
            ColumnType::Utf8
        }
    }
}

/// The type of every column of `table` (one pass over its cells).
pub fn infer(table: &Table) -> Vec<ColumnType> {
    let mut seen = vec![Seen::NONE; table.header.len()];
    for rec in table.records() {
        for (s, cell) in seen.iter_mut().zip(rec.iter()) {
            s.add(cell);
        }
    }
    table
        .header
        .iter()
        .zip(seen)
        .map(|(name, s)| s.decide(name, !table.is_empty()))
        .collect()
}

/// The Arrow schema of a table with these column types (every column nullable).
pub fn schema(header: &[String], types: &[ColumnType]) -> SchemaRef {
    Arc::new(Schema::new(
        header
            .iter()
            .zip(types)
            .map(|(name, t)| Field::new(name, t.data_type(), true))
            .collect::<Vec<_>>(),
    ))
}

/// One column under construction.
enum Builder {
    Boolean(BooleanBuilder),
    Int64(Int64Builder),
    Float64(Float64Builder),
    Utf8(StringBuilder),
}

impl Builder {
    fn new(t: ColumnType) -> Self {
        match t {
            ColumnType::Boolean => Builder::Boolean(BooleanBuilder::new()),
            ColumnType::Int64 => Builder::Int64(Int64Builder::new()),
            ColumnType::Float64 => Builder::Float64(Float64Builder::new()),
            ColumnType::Utf8 => Builder::Utf8(StringBuilder::new()),
        }
    }

    /// Appends a cell (its type was inferred from it, so it parses).
    fn push(&mut self, cell: &str) {
        if cell.is_empty() {
            match self {
                Builder::Boolean(b) => b.append_null(),
                Builder::Int64(b) => b.append_null(),
                Builder::Float64(b) => b.append_null(),
                Builder::Utf8(b) => b.append_null(),
            }
            return;
        }
        match self {
            Builder::Boolean(b) => b.append_value(cell == "true"),
            Builder::Int64(b) => b.append_option(cell.parse::<i64>().ok()),
            Builder::Float64(b) => b.append_option(cell.parse::<f64>().ok()),
            Builder::Utf8(b) => b.append_value(cell),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Boolean(b) => Arc::new(b.finish()),
            Builder::Int64(b) => Arc::new(b.finish()),
            Builder::Float64(b) => Arc::new(b.finish()),
            Builder::Utf8(b) => Arc::new(b.finish()),
        }
    }
}

/// Feeds `table`'s rows to `f` as record batches of at most `batch_rows` rows, typed by
/// `types` (from [`infer`]). A table without rows gives one empty batch.
pub fn for_each_batch<E: From<ArrowError>>(
    table: &Table,
    types: &[ColumnType],
    batch_rows: usize,
    mut f: impl FnMut(RecordBatch) -> Result<(), E>,
) -> Result<(), E> {
    let schema = schema(&table.header, types);
    let mut builders: Vec<Builder> = types.iter().map(|&t| Builder::new(t)).collect();
    let mut rows = 0;
    let flush = |builders: &mut [Builder]| {
        let columns = builders.iter_mut().map(Builder::finish).collect();
        RecordBatch::try_new(schema.clone(), columns)
    };
    for rec in table.records() {
        for (b, cell) in builders.iter_mut().zip(rec.iter()) {
            b.push(cell);
        }
        rows += 1;
        if rows == batch_rows.max(1) {
            f(flush(&mut builders)?)?;
            rows = 0;
        }
    }
    if rows > 0 || table.is_empty() {
        f(flush(&mut builders)?)?;
    }
    Ok(())
}

/// The whole table as one typed record batch.
pub fn record_batch(table: &Table) -> Result<RecordBatch, ArrowError> {
    let types = infer(table);
    let mut out = None;
    for_each_batch(table, &types, usize::MAX, |b| {
        out = Some(b);
        Ok::<(), ArrowError>(())
    })?;
    Ok(out.expect("one batch"))
}

/// A cell of an Arrow column as CSV text (empty for null and NaN; floats in `fmt_f64`'s form),
/// so a table read back from Parquet has the cells it was written from.
pub fn cell(array: &dyn arrow_array::Array, row: usize) -> String {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type};
    if array.is_null(row) {
        return String::new();
    }
    match array.data_type() {
        DataType::Boolean => array.as_boolean().value(row).to_string(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::Float64 => super::table::fmt_f64(array.as_primitive::<Float64Type>().value(row)),
        DataType::Utf8 => array.as_string::<i32>().value(row).to_string(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row).to_string(),
        DataType::Dictionary(_, _) => dictionary_cell(array, row).unwrap_or_default(),
        other => format!("<{other}>"),
    }
}

/// A string dictionary cell (Parquet files written by other tools may use them).
fn dictionary_cell(array: &dyn arrow_array::Array, row: usize) -> Option<String> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int8Type, Int16Type, Int32Type, Int64Type};
    let (key, values) = if let Some(d) = array.as_dictionary_opt::<Int32Type>() {
        (d.keys().value(row) as usize, d.values().clone())
    } else if let Some(d) = array.as_dictionary_opt::<Int16Type>() {
        (d.keys().value(row) as usize, d.values().clone())
    } else if let Some(d) = array.as_dictionary_opt::<Int8Type>() {
        (d.keys().value(row) as usize, d.values().clone())
    } else if let Some(d) = array.as_dictionary_opt::<Int64Type>() {
        (d.keys().value(row) as usize, d.values().clone())
    } else {
        return None;
    };
    Some(cell(values.as_ref(), key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(header: &[&str], rows: &[&[&str]]) -> Table {
        let mut t = Table::new("t.csv", header);
        for r in rows {
            t.push(r.iter().map(|c| c.to_string()).collect());
        }
        t
    }

    #[test]
    fn cells_classify() {
        assert!(is_int("0") && is_int("-12") && is_int("9007199254740993"));
        assert!(!is_int("007") && !is_int("-0") && !is_int("+5") && !is_int("1.5"));
        assert!(!is_int("99999999999999999999"), "past i64: not an integer");
        assert!(is_float("1.5") && is_float("-2e-7") && is_float("inf") && is_float("3"));
        assert!(!is_float("NaN") && !is_float("infinity") && !is_float("e5") && !is_float("1,5"));
        assert!(!is_float("01") && !is_float("-007.5") && is_float("0.5") && is_float("0"));
    }

    #[test]
    fn columns_get_deterministic_types() {
        let t = table(
            &[
                "time_s", "count", "mean", "name", "ok", "none", "delay_ms", "id",
            ],
            &[
                &["0", "1", "0.5", "a", "true", "", "3", "01"],
                &["10", "", "2", "b", "false", "", "", "2"],
            ],
        );
        use ColumnType::*;
        assert_eq!(
            infer(&t),
            [
                Float64, Int64, Float64, Utf8, Boolean, Float64, Float64, Utf8
            ]
        );
        let b = record_batch(&t).unwrap();
        assert_eq!(b.num_rows(), 2);
        assert!(b.column(1).is_null(1), "an empty cell is a null");
        // Cells come back as they were written (integral floats without a fraction).
        assert_eq!(cell(b.column(0).as_ref(), 1), "10");
        assert_eq!(cell(b.column(2).as_ref(), 0), "0.5");
        assert_eq!(cell(b.column(7).as_ref(), 0), "01");
        assert_eq!(cell(b.column(5).as_ref(), 0), "");
        // No rows: text, but measures stay floats.
        let empty = table(&["time_s", "cloud"], &[]);
        assert_eq!(infer(&empty), [Float64, Utf8]);
        assert_eq!(record_batch(&empty).unwrap().num_rows(), 0);
    }

    #[test]
    fn batches_split_rows() {
        let rows: Vec<Vec<String>> = (0..5).map(|i| vec![i.to_string()]).collect();
        let mut t = Table::new("t.csv", &["n"]);
        for r in rows {
            t.push(r);
        }
        let mut sizes = Vec::new();
        for_each_batch(&t, &infer(&t), 2, |b| {
            sizes.push(b.num_rows());
            Ok::<(), ArrowError>(())
        })
        .unwrap();
        assert_eq!(sizes, [2, 2, 1]);
    }
}
