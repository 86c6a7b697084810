//! Parquet files of the results' tables (`output.formats = ["parquet"]`): `<table>.parquet`
//! beside (or instead of) `<table>.csv`, with typed columns ([`super::columns`]), zstd pages
//! and dictionary-encoded strings.
//!
//! Equal tables give byte-identical files: the writer's properties are fixed here (zstd level,
//! row group and page sizes, statistics), `created_by` names cloudtwin's version and nothing
//! reads a clock. Reading gives back the CSV cells ([`columns::cell`]) for the tools that read
//! either format (`report`, `merge`), or the record batches themselves.

use super::Table;
use super::columns::{self, BATCH_ROWS};
use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use std::path::Path;

/// zstd level of every page (3: zstd's default, a good size/speed balance).
pub const ZSTD_LEVEL: i32 = 3;
/// Rows per row group.
pub const ROW_GROUP_ROWS: usize = 1 << 20;

/// `vm_events.csv` -> `vm_events.parquet`.
pub fn file_name(csv_name: &str) -> String {
    let stem = csv_name.strip_suffix(".csv").unwrap_or(csv_name);
    format!("{stem}.parquet")
}

/// The writer's properties: every one that changes the bytes is set here, not left to the
/// crate's defaults (which may change between versions).
fn properties() -> Result<WriterProperties, ParquetError> {
    Ok(WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_1_0)
        .set_created_by(format!("cloudtwin {}", env!("CARGO_PKG_VERSION")))
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(ZSTD_LEVEL)?))
        .set_dictionary_enabled(true)
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_write_batch_size(1024)
        .set_data_page_size_limit(1 << 20)
        .set_dictionary_page_size_limit(1 << 20)
        .build())
}

/// Writes `table` as Parquet into `out`.
pub fn write<W: std::io::Write + Send>(table: &Table, out: W) -> Result<(), ParquetError> {
    let types = columns::infer(table);
    let schema = columns::schema(&table.header, &types);
    let mut w = ArrowWriter::try_new(out, schema, Some(properties()?))?;
    columns::for_each_batch(table, &types, BATCH_ROWS, |b| w.write(&b))?;
    w.close()?;
    Ok(())
}

/// `table` as the bytes of a Parquet file.
pub fn to_bytes(table: &Table) -> Result<Vec<u8>, ParquetError> {
    let mut out = Vec::new();
    write(table, &mut out)?;
    Ok(out)
}

/// Writes `table` to the file `path`.
pub fn write_file(table: &Table, path: &Path) -> Result<(), ParquetError> {
    let f = std::fs::File::create(path)?;
    let mut buf = std::io::BufWriter::new(f);
    write(table, &mut buf)?;
    use std::io::Write as _;
    buf.flush()?;
    Ok(())
}

/// The schema and record batches of a Parquet file.
pub fn read_batches(path: &Path) -> Result<(SchemaRef, Vec<RecordBatch>), ParquetError> {
    let f = std::fs::File::open(path)?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)?
        .with_batch_size(BATCH_ROWS)
        .build()?;
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<_>, _>>()?;
    Ok((schema, batches))
}

/// Streams a Parquet file's rows as CSV cells: `f` gets the header and each row. Returns the
/// number of rows.
pub fn stream(path: &Path, mut f: impl FnMut(&[String], &[String])) -> Result<usize, ParquetError> {
    let file = std::fs::File::open(path)?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)?
        .with_batch_size(BATCH_ROWS)
        .build()?;
    let header: Vec<String> = reader
        .schema()
        .fields()
        .iter()
        .map(|c| c.name().clone())
        .collect();
    let mut n = 0;
    let mut row = Vec::with_capacity(header.len());
    for batch in reader {
        let batch = batch?;
        for r in 0..batch.num_rows() {
            row.clear();
            row.extend(batch.columns().iter().map(|c| columns::cell(c.as_ref(), r)));
            f(&header, &row);
            n += 1;
        }
    }
    Ok(n)
}

/// A Parquet file read whole as a table of CSV cells named `name`.
pub fn read_table(path: &Path, name: &str) -> Result<Table, ParquetError> {
    let (schema, batches) = read_batches(path)?;
    let header: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let mut t = Table::new(name, &header);
    for b in &batches {
        for r in 0..b.num_rows() {
            t.push(
                b.columns()
                    .iter()
                    .map(|c| columns::cell(c.as_ref(), r))
                    .collect(),
            );
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new("x.csv", &["time_s", "cloud", "count", "mean"]);
        for i in 0..2000 {
            t.push(vec![
                format!("{}", i * 10),
                format!("aws:region-{}", i % 7),
                (i % 13).to_string(),
                if i % 5 == 0 {
                    String::new()
                } else {
                    format!("{}", i as f64 / 3.0)
                },
            ]);
        }
        t
    }

    #[test]
    fn byte_identical_and_round_trips() {
        let t = sample();
        let a = to_bytes(&t).unwrap();
        let b = to_bytes(&t.clone()).unwrap();
        assert_eq!(a, b, "equal tables, equal bytes");
        assert_eq!(&a[..4], b"PAR1");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(file_name("x.csv"));
        write_file(&t, &p).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), a);
        let back = read_table(&p, "x.csv").unwrap();
        assert_eq!(back.header, t.header);
        assert_eq!(back.to_csv(), t.to_csv(), "the same cells come back");
        let (schema, batches) = read_batches(&p).unwrap();
        assert_eq!(schema.field(2).data_type(), &arrow_schema::DataType::Int64);
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2000);
    }

    #[test]
    fn empty_table_keeps_its_header() {
        let t = Table::new("e.csv", &["time_s", "name"]);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.parquet");
        write_file(&t, &p).unwrap();
        let back = read_table(&p, "e.csv").unwrap();
        assert_eq!(back.header, ["time_s", "name"]);
        assert!(back.is_empty());
    }
}
