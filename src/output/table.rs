//! Tidy CSV tables: a header and rows of cells, written in the order rows were added (models
//! add them in simulated-time order, then by key), so equal runs give equal bytes.
//!
//! Rows are encoded to CSV as they are pushed (a long run's time series would otherwise hold
//! millions of small strings); [`Table::rows`] parses them back on demand, for tests and tools.

use std::sync::OnceLock;

/// One CSV table under construction.
#[derive(Debug)]
pub struct Table {
    /// File name inside the results folder, e.g. `vm_states.csv`.
    pub name: String,
    pub header: Vec<String>,
    body: csv::Writer<Vec<u8>>,
    len: usize,
    parsed: OnceLock<Vec<Vec<String>>>,
}

impl Table {
    pub fn new(name: &str, header: &[&str]) -> Self {
        Table {
            name: name.to_string(),
            header: header.iter().map(|h| h.to_string()).collect(),
            body: csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(Vec::new()),
            len: 0,
            parsed: OnceLock::new(),
        }
    }

    /// Moves the table out, leaving an empty one of the same name and header (a model hands
    /// its tables over at the end of a run).
    pub fn take(&mut self) -> Table {
        let header: Vec<&str> = self.header.iter().map(String::as_str).collect();
        let empty = Table::new(&self.name, &header);
        std::mem::replace(self, empty)
    }

    /// Appends a row; cells are already formatted (see [`fmt_f64`] for floats).
    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.header.len(), "row width of {}", self.name);
        self.body.write_record(&row).expect("write to memory");
        // Move the writer's buffer into the Vec (a memory copy, no system call), so `body`
        // always holds every row.
        self.body.flush().expect("flush to memory");
        self.len += 1;
        self.parsed = OnceLock::new();
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The rows, parsed back from the encoded CSV (cached until the next push).
    pub fn rows(&self) -> &[Vec<String>] {
        self.parsed.get_or_init(|| {
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(self.body.get_ref().as_slice());
            r.records()
                .map(|rec| rec.expect("own CSV").iter().map(str::to_string).collect())
                .collect()
        })
    }

    /// Streams the rows, parsed from the encoded CSV one at a time (nothing cached: for
    /// tables too large to hold parsed, e.g. a big fleet's `vm_events.csv`).
    pub fn records(&self) -> impl Iterator<Item = csv::StringRecord> + '_ {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(self.body.get_ref().as_slice())
            .into_records()
            .map(|rec| rec.expect("own CSV"))
    }

    /// A table from CSV text with a header row (a file a run wrote).
    pub fn from_csv(name: &str, bytes: &[u8]) -> Result<Table, csv::Error> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(bytes);
        let header: Vec<String> = r.headers()?.iter().map(str::to_string).collect();
        let mut t = Table::new(name, &header.iter().map(String::as_str).collect::<Vec<_>>());
        for rec in r.records() {
            t.push(rec?.iter().map(str::to_string).collect());
        }
        Ok(t)
    }

    pub fn to_csv(&self) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        w.write_record(&self.header).expect("write to memory");
        let mut out = w.into_inner().expect("flush to memory");
        out.extend_from_slice(self.body.get_ref());
        out
    }
}

impl Clone for Table {
    fn clone(&self) -> Self {
        let mut t = Table::new(
            &self.name,
            &self.header.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        for r in self.rows() {
            t.push(r.clone());
        }
        t
    }
}

impl PartialEq for Table {
    fn eq(&self, o: &Self) -> bool {
        self.name == o.name && self.header == o.header && self.body.get_ref() == o.body.get_ref()
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

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn rows_round_trip_with_quoting() {
        let mut t = Table::new("x.csv", &["a", "b"]);
        t.push(vec!["1".into(), "has,comma".into()]);
        t.push(vec!["2".into(), "".into()]);
        assert_eq!(t.len(), 2);
        assert_eq!(t.rows()[0][1], "has,comma");
        assert_eq!(t.to_csv(), b"a,b\n1,\"has,comma\"\n2,\n");
        t.push(vec!["3".into(), "q\"".into()]);
        assert_eq!(t.rows().len(), 3, "cache refreshed after a push");
    }
}
