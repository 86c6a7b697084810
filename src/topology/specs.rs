//! The VM spec catalogue: vCPU, memory, cost per hour and benchmark score of each provider's
//! VM types per region. Data: `models/specs.csv` (from CB-Tumblebug's `assets/cloudspec.csv`
//! v0.7.0; vCPU and memory decoded from the spec names, see `models/README.md`).

/// The catalogue shipped in `models/specs.csv`.
pub const BUILTIN_SPECS_CSV: &str = include_str!("../../models/specs.csv");

/// One VM type in one region.
#[derive(Clone, Debug, PartialEq)]
pub struct VmSpec {
    pub provider: String,
    pub region: String,
    pub name: String,
    pub vcpu: u32,
    pub memory_gib: f64,
    pub cost_per_hour: f64,
    /// CB-Tumblebug's benchmark score (`evaluationScore01`), if known.
    pub score: Option<f64>,
}

impl VmSpec {
    /// The spec used where the catalogue has nothing for a region: 2 vCPU, 8 GiB, $0.10/h
    /// (about the median 2-vCPU general-purpose price of the catalogue).
    pub fn generic(provider: &str, region: &str) -> Self {
        VmSpec {
            provider: provider.to_string(),
            region: region.to_string(),
            name: "generic-2vcpu-8gib".into(),
            vcpu: 2,
            memory_gib: 8.0,
            cost_per_hour: 0.10,
            score: None,
        }
    }
}

/// All specs, sorted by provider, region, cost, name.
#[derive(Clone, Debug)]
pub struct SpecCatalogue {
    specs: Vec<VmSpec>,
}

impl SpecCatalogue {
    pub fn builtin() -> Self {
        Self::from_csv(BUILTIN_SPECS_CSV).expect("models/specs.csv is valid")
    }

    /// Parses a CSV with columns provider, region, spec, vcpu, memory_gib, cost_per_hour and
    /// optionally score.
    pub fn from_csv(text: &str) -> Result<Self, String> {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let h = rdr.headers().map_err(|e| e.to_string())?.clone();
        let col = |n: &str| {
            h.iter()
                .position(|x| x == n)
                .ok_or_else(|| format!("missing column `{n}`"))
        };
        let (cp, cr, cs, cv, cm, cc) = (
            col("provider")?,
            col("region")?,
            col("spec")?,
            col("vcpu")?,
            col("memory_gib")?,
            col("cost_per_hour")?,
        );
        let cscore = h.iter().position(|x| x == "score");
        let mut specs = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| format!("line {line}: {e}"))?;
            let get = |c: usize| rec.get(c).unwrap_or("");
            let num = |c: usize, what: &str| -> Result<f64, String> {
                get(c)
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .ok_or_else(|| format!("line {line}: {what} `{}` is not a number >= 0", get(c)))
            };
            let vcpu = num(cv, "vcpu")?;
            if vcpu < 1.0 {
                return Err(format!("line {line}: vcpu must be at least 1"));
            }
            specs.push(VmSpec {
                provider: get(cp).to_ascii_lowercase(),
                region: get(cr).to_string(),
                name: get(cs).to_string(),
                vcpu: vcpu as u32,
                memory_gib: num(cm, "memory_gib")?,
                cost_per_hour: num(cc, "cost_per_hour")?,
                score: cscore.and_then(|c| get(c).parse::<f64>().ok()),
            });
        }
        specs.sort_by(|a, b| {
            (&a.provider, &a.region)
                .cmp(&(&b.provider, &b.region))
                .then(a.cost_per_hour.total_cmp(&b.cost_per_hour))
                .then(a.name.cmp(&b.name))
        });
        Ok(SpecCatalogue { specs })
    }

    pub fn specs(&self) -> &[VmSpec] {
        &self.specs
    }

    /// Specs offered in one region, cheapest first.
    pub fn in_region<'a, 'k>(
        &'a self,
        provider: &'k str,
        region: &'k str,
    ) -> impl Iterator<Item = &'a VmSpec> + use<'a, 'k> {
        self.specs
            .iter()
            .filter(move |s| s.provider == provider && s.region == region)
    }

    pub fn find(&self, provider: &str, region: &str, name: &str) -> Option<&VmSpec> {
        self.specs
            .iter()
            .find(|s| s.provider == provider && s.region == region && s.name == name)
    }

    /// The spec a VM gets when its group names none: the cheapest with at least 2 vCPU in the
    /// region, else the same spec name's cheapest offer of the provider, else [`VmSpec::generic`].
    pub fn default_for(&self, provider: &str, region: &str) -> VmSpec {
        if let Some(s) = self.in_region(provider, region).find(|s| s.vcpu >= 2) {
            return s.clone();
        }
        self.specs
            .iter()
            .filter(|s| s.provider == provider && s.vcpu >= 2)
            .min_by(|a, b| {
                a.cost_per_hour
                    .total_cmp(&b.cost_per_hour)
                    .then(a.name.cmp(&b.name))
            })
            .map(|s| VmSpec {
                region: region.to_string(),
                ..s.clone()
            })
            .unwrap_or_else(|| VmSpec::generic(provider, region))
    }
}
