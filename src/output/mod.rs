//! Results on disk: the folder a run writes, one file per output format.
//!
//! - [`results_dir`]: the folder, written atomically (a temporary sibling renamed at the end).
//! - [`summary`]: `summary.csv`, one `metric,value` row per scalar result.
//! - [`table`]: tidy CSV tables and time series, rows in a deterministic order.
//! - [`manifest`]: `manifest.json`, what produced the results.
//! - [`names`]: the name of every file and summary metric, for writers and readers alike.

pub mod manifest;
pub mod names;
pub mod results_dir;
pub mod summary;
pub mod table;

pub use manifest::Manifest;
pub use results_dir::ResultsDir;
pub use summary::Summary;
pub use table::Table;
