//! A results folder written atomically: every file goes into a hidden temporary folder beside
//! the target, which is renamed into place only when the whole run has succeeded. An existing
//! folder is refused unless forced; a failed or interrupted run removes its temporary folder
//! (on drop), so the target is either the complete new results or untouched.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A results folder being written.
#[derive(Debug)]
pub struct ResultsDir {
    target: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("{0} already exists (use --force to replace it)")]
    Exists(String),
    #[error("{0} exists and is not a results folder (no manifest.json): refusing to replace it")]
    NotResults(String),
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ResultsError + '_ {
    move |source| ResultsError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl ResultsDir {
    /// Starts writing results for `target`. Fails if it exists and `force` is false.
    pub fn create(target: &Path, force: bool) -> Result<Self, ResultsError> {
        if target.exists() {
            if !force {
                return Err(ResultsError::Exists(target.display().to_string()));
            }
            // --force replaces earlier results only, never an unrelated file or folder.
            let is_results = target.is_dir()
                && (target.join("manifest.json").is_file()
                    || fs::read_dir(target).is_ok_and(|mut d| d.next().is_none()));
            if !is_results {
                return Err(ResultsError::NotResults(target.display().to_string()));
            }
        }
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(io_err(&parent))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "results".into());
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(io_err(&tmp))?;
        }
        fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
        Ok(ResultsDir {
            target: target.to_path_buf(),
            tmp,
            committed: false,
        })
    }

    /// Where to write `name` (inside the temporary folder); creates sub-folders.
    pub fn path(&self, name: &str) -> Result<PathBuf, ResultsError> {
        let p = self.tmp.join(name);
        if let Some(dir) = p.parent() {
            fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        Ok(p)
    }

    /// Writes a whole file.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), ResultsError> {
        let p = self.path(name)?;
        fs::write(&p, bytes).map_err(io_err(&p))
    }

    /// Writes a table in the chosen formats: `<name>.csv` and/or `<stem>.parquet`.
    pub fn write_table(
        &self,
        table: &super::Table,
        formats: &crate::scenario::OutputSpec,
    ) -> Result<(), ResultsError> {
        if formats.csv() {
            self.write(&table.name, &table.to_csv())?;
        }
        if formats.parquet() {
            let p = self.path(&super::parquet::file_name(&table.name))?;
            super::parquet::write_file(table, &p).map_err(|e| ResultsError::Io {
                path: p.display().to_string(),
                source: io::Error::other(e.to_string()),
            })?;
        }
        Ok(())
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Moves the finished results into place, replacing an existing folder (checked at create).
    pub fn commit(mut self) -> Result<PathBuf, ResultsError> {
        if self.target.exists() {
            let old = PathBuf::from(format!("{}.old", self.tmp.display()));
            fs::rename(&self.target, &old).map_err(io_err(&self.target))?;
            fs::rename(&self.tmp, &self.target).map_err(io_err(&self.tmp))?;
            fs::remove_dir_all(&old).map_err(io_err(&old))?;
        } else {
            fs::rename(&self.tmp, &self.target).map_err(io_err(&self.tmp))?;
        }
        self.committed = true;
        Ok(self.target.clone())
    }
}

impl Drop for ResultsDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_moves_into_place_and_drop_cleans_up() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("out");
        let r = ResultsDir::create(&target, false).unwrap();
        r.write("manifest.json", b"{}\n").unwrap();
        r.write("a.csv", b"x\n").unwrap();
        assert!(!target.exists(), "nothing visible before commit");
        r.commit().unwrap();
        assert_eq!(fs::read(target.join("a.csv")).unwrap(), b"x\n");

        assert!(matches!(
            ResultsDir::create(&target, false),
            Err(ResultsError::Exists(_))
        ));
        {
            let r = ResultsDir::create(&target, true).unwrap();
            r.write("b.csv", b"y\n").unwrap();
            // dropped without commit: a failed run
        }
        assert!(target.join("a.csv").exists(), "old results untouched");
        assert!(!target.join("b.csv").exists());
        let leftovers: Vec<_> = fs::read_dir(root.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary folder left behind");

        let r = ResultsDir::create(&target, true).unwrap();
        r.write("c.csv", b"z\n").unwrap();
        r.commit().unwrap();
        assert!(!target.join("a.csv").exists(), "forced replace");
        assert!(target.join("c.csv").exists());
    }

    #[test]
    fn force_never_replaces_unrelated_files_or_folders() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("notes.txt");
        fs::write(&file, b"keep").unwrap();
        assert!(matches!(
            ResultsDir::create(&file, true),
            Err(ResultsError::NotResults(_))
        ));
        let dir = root.path().join("home");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("thesis.tex"), b"keep").unwrap();
        assert!(matches!(
            ResultsDir::create(&dir, true),
            Err(ResultsError::NotResults(_))
        ));
        assert_eq!(fs::read(dir.join("thesis.tex")).unwrap(), b"keep");
    }
}
