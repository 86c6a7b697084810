//! `cloudtwin latency`: the RTT matrix of a list of regions, and `cloudtwin latency fit`, which
//! re-calibrates `models/latency.toml` on the published matrices and Skyplane's pings and prints
//! the in-sample and held-out errors.

use super::CliError;
use clap::{Args, Subcommand, ValueEnum};
use cloudtwin::network::fit;
use cloudtwin::network::{LatencyModel, MeasuredMatrix, RttStat, find_regions, parse_region_list};
use cloudtwin::topology::{Catalogue, Region};
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LatencyArgs {
    #[command(subcommand)]
    pub command: Option<LatencyCommand>,
    /// Regions as provider:region, comma-separated (aws:us-east-1,gcp:europe-west3).
    #[arg(long, conflicts_with = "regions_file")]
    pub regions: Option<String>,
    /// CSV file with columns provider,region (one region per row).
    #[arg(long, value_name = "FILE")]
    pub regions_file: Option<PathBuf>,
    /// Statistic of each pair's RTT distribution.
    #[arg(long, value_enum, default_value_t = StatArg::P50)]
    pub stat: StatArg,
    /// Write the CSV to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Seed of the per-pair effects.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Measured RTT matrix (CSV, long `src,dst,rtt_ms` or square) overriding the pairs it covers.
    #[arg(long, value_name = "FILE")]
    pub measured: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum LatencyCommand {
    /// Re-fit the model's coefficients on the published RTT matrices and Skyplane's pings and print
    /// the errors, in sample and held out.
    Fit(FitArgs),
}

#[derive(Args, Debug)]
pub struct FitArgs {
    /// Folder with aws_rtt_p50.csv, azure_rtt_p50.csv, azure_rtt_p95.csv, ibm_rtt_avg.csv and
    /// skyplane_rtt_cross_cloud.csv.
    #[arg(long, value_name = "DIR", default_value = "../shared/data")]
    pub data: PathBuf,
    /// Rewrite models/latency.toml (under --models) with the fitted coefficients.
    #[arg(long)]
    pub write: bool,
    /// Folder holding latency.toml.
    #[arg(long, value_name = "DIR", default_value = "models")]
    pub models: PathBuf,
    /// Also write every observation with its in-sample and held-out predictions (CSV).
    #[arg(long, value_name = "FILE")]
    pub residuals: Option<PathBuf>,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
pub enum StatArg {
    P50,
    P95,
    Mean,
}

impl From<StatArg> for RttStat {
    fn from(s: StatArg) -> RttStat {
        match s {
            StatArg::P50 => RttStat::P50,
            StatArg::P95 => RttStat::P95,
            StatArg::Mean => RttStat::Mean,
        }
    }
}

pub fn latency(a: LatencyArgs) -> Result<(), CliError> {
    if let Some(LatencyCommand::Fit(f)) = a.command {
        return latency_fit(f);
    }
    let cat = Catalogue::builtin();
    let regions = match (&a.regions, &a.regions_file) {
        (Some(list), _) => parse_region_list(list, &cat).map_err(CliError::bad_input)?,
        (None, Some(file)) => read_regions_file(file, &cat)?,
        (None, None) => {
            return Err(CliError::bad_input(
                "give --regions provider:region,... or --regions-file FILE (or `latency fit`)",
            ));
        }
    };
    let mut model = LatencyModel::builtin(a.seed);
    if let Some(path) = &a.measured {
        let m = MeasuredMatrix::from_path(path).map_err(CliError::bad_input)?;
        let unknown = m.unknown_regions(&cat);
        if !unknown.is_empty() {
            return Err(CliError::bad_input(format!(
                "{}: unknown regions: {}",
                path.display(),
                unknown.join(", ")
            )));
        }
        model = model.with_measured(m);
    }
    let csv = matrix_csv(&model, &regions, a.stat.into());
    match &a.out {
        Some(path) => std::fs::write(path, csv)
            .map_err(|e| CliError::failure(format!("cannot write {}: {e}", path.display()))),
        None => {
            out!("{csv}");
            Ok(())
        }
    }
}

/// `src,dst,rtt_ms`, one row per ordered pair (diagonal included), 3 decimals.
fn matrix_csv(model: &LatencyModel, regions: &[Region], stat: RttStat) -> String {
    let mut s = String::from("src,dst,rtt_ms\n");
    for a in regions {
        for b in regions {
            let _ = writeln!(s, "{},{},{:.3}", a.key(), b.key(), model.rtt_ms(a, b, stat));
        }
    }
    s
}

fn read_regions_file(path: &PathBuf, cat: &Catalogue) -> Result<Vec<Region>, CliError> {
    let bad = |m: String| CliError::bad_input(format!("{}: {m}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read: {e}")))?;
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = rdr.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |n: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(n));
    let (Some(cp), Some(cr)) = (col("provider"), col("region")) else {
        return Err(bad("expected a header with columns provider,region".into()));
    };
    let mut names = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let (p, r) = (rec.get(cp).unwrap_or(""), rec.get(cr).unwrap_or(""));
        if p.is_empty() || r.is_empty() {
            return Err(bad(format!("line {line}: empty provider or region")));
        }
        names.push(format!("{p}:{r}"));
    }
    find_regions(&names, cat).map_err(bad)
}

fn latency_fit(f: FitArgs) -> Result<(), CliError> {
    let cat = Catalogue::builtin();
    let data = fit::load_datasets(&f.data, &cat).map_err(CliError::bad_input)?;
    let toml_path = f.models.join("latency.toml");
    let base_text = if f.write {
        std::fs::read_to_string(&toml_path)
            .map_err(|e| CliError::bad_input(format!("cannot read {}: {e}", toml_path.display())))?
    } else {
        cloudtwin::network::BUILTIN_LATENCY_TOML.to_string()
    };
    let base = LatencyModel::from_toml(&base_text, fit::EVAL_SEED)
        .map_err(|e| CliError::bad_input(format!("{}: {e}", toml_path.display())))?;
    let shipped = fit::validate::score(
        LatencyModel::builtin(fit::EVAL_SEED).coefficients(),
        &data.observations,
    )
    .map_err(CliError::failure)?;
    let report = fit::run_fit(&data, base.coefficients()).map_err(CliError::failure)?;
    out!("{}", fit::render_report(&data, &shipped, &report));
    if let Some(path) = &f.residuals {
        std::fs::write(path, fit::residuals_csv(&report))
            .map_err(|e| CliError::failure(format!("cannot write {}: {e}", path.display())))?;
    }
    if f.write {
        let text = fit::rewrite_toml(&base_text, &data, &report).map_err(CliError::failure)?;
        std::fs::write(&toml_path, text)
            .map_err(|e| CliError::failure(format!("cannot write {}: {e}", toml_path.display())))?;
        outln!(
            "\nwrote {} (rebuild to use the new coefficients)",
            toml_path.display()
        );
    }
    Ok(())
}
