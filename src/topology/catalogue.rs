//! The region catalogue: every (provider, region) a scenario may name, with metro-level
//! coordinates and availability zones. Data: `models/regions.csv` (provenance in
//! `models/README.md`), built into the binary; a scenario may point at another file with the
//! same columns (`topology.catalogue`).

use std::collections::BTreeMap;

/// The catalogue shipped in `models/regions.csv`.
pub const BUILTIN_REGIONS_CSV: &str = include_str!("../../models/regions.csv");

/// One region of one provider.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    pub provider: String,
    pub region: String,
    pub city: String,
    pub country: String,
    pub lat: f64,
    pub lon: f64,
    pub zones: Vec<String>,
}

impl Region {
    /// `provider:region`, the name used on the command line and in results.
    pub fn key(&self) -> String {
        format!("{}:{}", self.provider, self.region)
    }
}

/// All known regions, sorted by provider then region code.
#[derive(Clone, Debug)]
pub struct Catalogue {
    regions: Vec<Region>,
}

impl Catalogue {
    /// The catalogue built into the binary.
    pub fn builtin() -> Self {
        Catalogue::from_csv(BUILTIN_REGIONS_CSV).expect("models/regions.csv is valid")
    }

    /// Parses a catalogue CSV with at least the columns provider, region, lat, lon
    /// (optional: city, country, zones as `;`-separated names).
    pub fn from_csv(text: &str) -> Result<Self, String> {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = rdr.headers().map_err(|e| e.to_string())?.clone();
        let col = |name: &str| headers.iter().position(|h| h == name);
        let need = |name: &str| {
            col(name)
                .ok_or_else(|| format!("missing column `{name}` (need provider, region, lat, lon)"))
        };
        let (cp, cr, clat, clon) = (
            need("provider")?,
            need("region")?,
            need("lat")?,
            need("lon")?,
        );
        let (ccity, ccountry, czones) = (col("city"), col("country"), col("zones"));
        let mut regions = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| format!("line {line}: {e}"))?;
            let get = |c: usize| rec.get(c).unwrap_or("").to_string();
            let num = |c: usize, what: &str| -> Result<f64, String> {
                let v: f64 = get(c)
                    .parse()
                    .map_err(|_| format!("line {line}: {what} `{}` is not a number", get(c)))?;
                Ok(v)
            };
            let (lat, lon) = (num(clat, "lat")?, num(clon, "lon")?);
            if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                return Err(format!(
                    "line {line}: coordinates ({lat}, {lon}) out of range"
                ));
            }
            let provider = get(cp).to_ascii_lowercase();
            let region = get(cr);
            if provider.is_empty() || region.is_empty() {
                return Err(format!("line {line}: empty provider or region"));
            }
            regions.push(Region {
                provider,
                region,
                city: ccity.map(get).unwrap_or_default(),
                country: ccountry.map(get).unwrap_or_default(),
                lat,
                lon,
                zones: czones
                    .map(get)
                    .unwrap_or_default()
                    .split(';')
                    .filter(|z| !z.is_empty())
                    .map(str::to_string)
                    .collect(),
            });
        }
        regions.sort_by(|a, b| (&a.provider, &a.region).cmp(&(&b.provider, &b.region)));
        if let Some(w) = regions
            .windows(2)
            .find(|w| w[0].provider == w[1].provider && w[0].region == w[1].region)
        {
            return Err(format!("region {} listed twice", w[0].key()));
        }
        if regions.is_empty() {
            return Err("no regions".into());
        }
        Ok(Catalogue { regions })
    }

    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    pub fn find(&self, provider: &str, region: &str) -> Option<&Region> {
        self.regions
            .binary_search_by(|r| (r.provider.as_str(), r.region.as_str()).cmp(&(provider, region)))
            .ok()
            .map(|i| &self.regions[i])
    }

    /// The region named `provider:region` (the form scenarios and the command line use).
    pub fn find_key(&self, key: &str) -> Option<&Region> {
        let (provider, region) = key.split_once(':')?;
        self.find(provider, region)
    }

    /// Regions of one provider, in catalogue order.
    pub fn of_provider<'a>(&'a self, provider: &'a str) -> impl Iterator<Item = &'a Region> + 'a {
        self.regions.iter().filter(move |r| r.provider == provider)
    }

    /// Provider names with their region counts.
    pub fn providers(&self) -> BTreeMap<&str, usize> {
        let mut m = BTreeMap::new();
        for r in &self.regions {
            *m.entry(r.provider.as_str()).or_insert(0) += 1;
        }
        m
    }

    /// Up to three region codes of `provider` closest in spelling to `region`.
    pub fn suggest(&self, provider: &str, region: &str) -> Vec<String> {
        let mut scored: Vec<(usize, &str)> = self
            .of_provider(provider)
            .map(|r| (edit_distance(&r.region, region), r.region.as_str()))
            .collect();
        scored.sort();
        scored
            .into_iter()
            .filter(|(d, _)| *d <= region.len().max(3) / 2 + 1)
            .take(3)
            .map(|(_, r)| r.to_string())
            .collect()
    }
}

/// Levenshtein distance, for "did you mean" hints.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + (ca != *cb) as usize)
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Great-circle distance in km (haversine, mean Earth radius 6371.0088 km).
pub fn great_circle_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0088 * a.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_has_the_main_providers() {
        let c = Catalogue::builtin();
        for (p, r) in [
            ("aws", "us-east-1"),
            ("gcp", "europe-west3"),
            ("azure", "koreacentral"),
            ("alibaba", "ap-northeast-2"),
        ] {
            let reg = c.find(p, r).unwrap_or_else(|| panic!("{p}:{r} missing"));
            assert!(!reg.zones.is_empty(), "{p}:{r} has zones");
        }
        assert!(c.providers().len() >= 6);
    }

    #[test]
    fn suggestions_and_distance() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        let c = Catalogue::builtin();
        assert!(
            c.suggest("aws", "us-east-9")
                .contains(&"us-east-1".to_string())
        );
        // Seoul to Tokyo is about 1,160 km.
        let d = great_circle_km(37.5665, 126.978, 35.6762, 139.6503);
        assert!((d - 1160.0).abs() < 20.0, "{d}");
    }

    #[test]
    fn bad_catalogues_are_rejected() {
        assert!(Catalogue::from_csv("provider,region,lat\naws,x,1\n").is_err());
        assert!(Catalogue::from_csv("provider,region,lat,lon\naws,x,1,500\n").is_err());
        assert!(Catalogue::from_csv("provider,region,lat,lon\naws,x,1,2\naws,x,1,2\n").is_err());
        assert!(Catalogue::from_csv("provider,region,lat,lon\naws,x,abc,2\n").is_err());
    }
}
