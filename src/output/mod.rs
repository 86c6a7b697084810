//! Results on disk: the folder a run writes, one file per output format.
//!
//! - [`results_dir`]: the folder, written atomically (a temporary sibling renamed at the end).
//! - [`summary`]: `summary.csv`, one `metric,value` row per scalar result.
//! - [`table`]: tidy CSV tables and time series, rows in a deterministic order.
//! - [`columns`]: each table column's type (inferred from its cells) and Arrow record batches.
//! - [`parquet`]: `<table>.parquet` files (`output.formats`), byte-identical for equal tables.
//! - [`read`]: reading a folder's table in whichever format it was written.
//! - [`manifest`]: `manifest.json`, what produced the results.
//! - [`names`]: the name of every file and summary metric, for writers and readers alike.

pub mod columns;
pub mod manifest;
pub mod names;
pub mod parquet;
pub mod read;
pub mod results_dir;
pub mod summary;
pub mod table;

pub use manifest::Manifest;
pub use results_dir::ResultsDir;
pub use summary::Summary;
pub use table::Table;
