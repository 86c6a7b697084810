//! Tidy CSV tables: a header and rows of cells, written in the order rows were added (models
//! add them in simulated-time order, then by key), so equal runs give equal bytes.

/// One CSV table under construction.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// File name inside the results folder, e.g. `vm_states.csv`.
    pub name: String,
    pub header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(name: &str, header: &[&str]) -> Self {
        Table {
            name: name.to_string(),
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; cells are already formatted (see [`fmt_f64`] for floats).
    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.header.len(), "row width of {}", self.name);
        self.rows.push(row);
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    pub fn to_csv(&self) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        w.write_record(&self.header).expect("write to memory");
        for r in &self.rows {
            w.write_record(r).expect("write to memory");
        }
        w.into_inner().expect("flush to memory")
    }
}

/// A float cell: shortest round-trip form, empty for NaN.
pub fn fmt_f64(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        format!("{v}")
    }
}

/// Seconds of a simulated instant, for time columns (exact for whole milliseconds).
pub fn fmt_secs(t: crate::engine::SimTime) -> String {
    fmt_f64(t.as_secs_f64())
}
