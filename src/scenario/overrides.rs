//! `--set key.path=value` overrides, applied to the scenario text before it is validated, so an
//! override is checked exactly like the same key written in the file.

use super::error::{Origin, ScenarioError};
use toml_edit::{DocumentMut, Item, Table, Value};

/// One `--set` argument.
#[derive(Clone, Debug)]
pub struct Override {
    /// The argument as the user wrote it.
    pub arg: String,
    /// Key path segments (`topology.mix.aws` -> ["topology", "mix", "aws"]).
    pub path: Vec<String>,
    pub value: Value,
}

impl Override {
    /// Parses `key.path=value`. The value is read as TOML (numbers, booleans, arrays, inline
    /// tables, quoted strings); anything that is not valid TOML is taken as a plain string, so
    /// `--set simulation.duration=10m` works without quotes.
    pub fn parse(arg: &str) -> Result<Self, ScenarioError> {
        let err = |m: &str| ScenarioError {
            origin: Origin::Override(arg.to_string()),
            key: String::new(),
            message: m.to_string(),
        };
        let (key, raw) = arg
            .split_once('=')
            .ok_or_else(|| err("expected key.path=value"))?;
        let key = key.trim();
        let path: Vec<String> = key.split('.').map(|s| s.trim().to_string()).collect();
        if path.iter().any(|s| s.is_empty()) {
            return Err(err("the key path has an empty segment"));
        }
        let raw = raw.trim();
        let value = raw
            .parse::<Value>()
            .unwrap_or_else(|_| Value::from(raw.to_string()));
        Ok(Override {
            arg: arg.to_string(),
            path,
            value,
        })
    }

    pub fn key(&self) -> String {
        self.path.join(".")
    }

    /// Sets the value in the document, creating intermediate tables as needed.
    pub fn apply(&self, doc: &mut DocumentMut) -> Result<(), ScenarioError> {
        let mut table: &mut Table = doc.as_table_mut();
        let (last, parents) = self.path.split_last().expect("non-empty path");
        for (depth, seg) in parents.iter().enumerate() {
            let entry = table
                .entry(seg)
                .or_insert_with(|| Item::Table(Table::new()));
            if let Some(inline) = entry.as_inline_table().cloned() {
                *entry = Item::Table(inline.into_table());
            }
            table = entry.as_table_mut().ok_or_else(|| ScenarioError {
                origin: Origin::Override(self.arg.clone()),
                key: self.path[..=depth].join("."),
                message: "is a value, not a table, so it has no sub-keys".into(),
            })?;
        }
        table.insert(last, Item::Value(self.value.clone()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_as_toml_or_plain_strings() {
        let o = Override::parse("simulation.seed=7").unwrap();
        assert_eq!(o.path, ["simulation", "seed"]);
        assert_eq!(o.value.as_integer(), Some(7));
        let o = Override::parse("simulation.duration=10m").unwrap();
        assert_eq!(o.value.as_str(), Some("10m"));
        let o = Override::parse("output.vm_events = true").unwrap();
        assert_eq!(o.value.as_bool(), Some(true));
        assert!(Override::parse("novalue").is_err());
        assert!(Override::parse("a..b=1").is_err());
    }

    #[test]
    fn apply_creates_and_replaces() {
        let mut doc: DocumentMut = "[simulation]\nseed = 1\n".parse().unwrap();
        Override::parse("simulation.seed=9")
            .unwrap()
            .apply(&mut doc)
            .unwrap();
        Override::parse("topology.mix.aws=3")
            .unwrap()
            .apply(&mut doc)
            .unwrap();
        let text = doc.to_string();
        assert!(text.contains("seed = 9"), "{text}");
        assert!(text.contains("aws = 3"), "{text}");
        let e = Override::parse("simulation.seed.x=1")
            .unwrap()
            .apply(&mut doc)
            .unwrap_err();
        assert_eq!(e.key, "simulation.seed");
    }
}
