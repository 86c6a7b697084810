//! Clouds: which (provider, region) pairs a scenario runs on and how many VMs each hosts.
//!
//! A scenario names clouds explicitly (`clouds = ["aws:us-east-1", ...]`) and/or by a provider
//! mix (`mix = { aws = 30, gcp = 25 }`). A mix picks, for each provider, regions spread evenly
//! over longitude (so 30 AWS clouds span the globe rather than crowd one continent); the choice
//! depends only on the catalogue and the counts, never on the seed, so every replication of a
//! scenario runs on the same clouds.

pub mod catalogue;
pub mod specs;

pub use catalogue::{Catalogue, Region, great_circle_km};

use crate::model::PlanError;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Most clouds a scenario may have (regions x `accounts_per_region`): cloud ids are 32-bit, and
/// a few tables of the run grow with the square of the clouds.
pub const MAX_CLOUDS: u64 = 1 << 24;

/// One cloud of the scenario: a provider's region hosting `vms` VMs.
#[derive(Clone, Debug, PartialEq)]
pub struct Cloud {
    /// Index in the scenario's cloud list (stable: used as the entity and stream id base).
    pub id: u32,
    pub region: Region,
    pub vms: u32,
    /// Account (tenant) number within the region, from 1: Cloud-Twin's "clouds" were tenants
    /// of one endpoint, so several clouds may share a region (`accounts_per_region`).
    pub account: u32,
}

impl Cloud {
    /// `provider:region`, with `#k` for the k-th account of a region (k >= 2).
    pub fn name(&self) -> String {
        if self.account <= 1 {
            self.region.key()
        } else {
            format!("{}#{}", self.region.key(), self.account)
        }
    }
    pub fn provider(&self) -> &str {
        &self.region.provider
    }
}

/// `[topology]` in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopologySpec {
    /// VMs in each cloud unless a cloud entry says otherwise.
    #[serde(default = "default_vms_per_cloud")]
    pub vms_per_cloud: u32,
    /// Provider name -> number of clouds (regions) of that provider.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mix: BTreeMap<String, u32>,
    /// Explicit clouds: "provider:region" or { provider, region, vms }.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clouds: Vec<CloudSpec>,
    /// A region catalogue CSV to use instead of the built-in `models/regions.csv`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalogue: Option<String>,
    /// Clouds (accounts, tenants) per chosen region: each named region hosts this many
    /// clouds, `provider:region`, `provider:region#2`, ... (Cloud-Twin's clouds were tenants).
    #[serde(default = "one")]
    pub accounts_per_region: u32,
}

fn one() -> u32 {
    1
}

fn default_vms_per_cloud() -> u32 {
    10
}

impl Default for TopologySpec {
    fn default() -> Self {
        TopologySpec {
            vms_per_cloud: default_vms_per_cloud(),
            mix: BTreeMap::new(),
            clouds: Vec::new(),
            catalogue: None,
            accounts_per_region: 1,
        }
    }
}

/// An explicitly listed cloud.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CloudSpec {
    pub provider: String,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vms: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CloudTable {
    provider: String,
    region: String,
    #[serde(default)]
    vms: Option<u32>,
}

impl<'de> Deserialize<'de> for CloudSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CloudSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"provider:region\" or a table { provider, region, vms }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CloudSpec, E> {
                let (p, r) = v.split_once(':').ok_or_else(|| {
                    E::custom(format!("expected \"provider:region\", found \"{v}\""))
                })?;
                Ok(CloudSpec {
                    provider: p.trim().to_ascii_lowercase(),
                    region: r.trim().to_string(),
                    vms: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<CloudSpec, A::Error> {
                let t = CloudTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(CloudSpec {
                    provider: t.provider.to_ascii_lowercase(),
                    region: t.region,
                    vms: t.vms,
                })
            }
        }
        d.deserialize_any(V)
    }
}

impl TopologySpec {
    /// The scenario's clouds: explicit ones first, in the order given, then the mix by provider
    /// name, each provider's regions west to east.
    pub fn resolve(&self, catalogue: &Catalogue) -> Result<Vec<Cloud>, PlanError> {
        let err = |key: String, message: String| PlanError { key, message };
        if self.accounts_per_region == 0 {
            return Err(err(
                "topology.accounts_per_region".into(),
                "must be at least 1".into(),
            ));
        }
        if self.clouds.is_empty() && self.mix.is_empty() {
            return Err(err(
                "topology".into(),
                "no clouds: give `mix = { aws = 3, gcp = 2 }` and/or `clouds = [\"aws:us-east-1\"]`"
                    .into(),
            ));
        }
        let providers = catalogue.providers();
        let known = || providers.keys().copied().collect::<Vec<_>>().join(", ");
        // Counted before anything is allocated: a huge count is an error, not an abort.
        // (A count beyond the catalogue's regions is reported below, provider by provider.)
        let in_catalogue: u64 = providers.values().map(|&n| n as u64).sum();
        let regions = (self.clouds.len() as u64)
            .saturating_add(self.mix.values().map(|&n| n as u64).sum::<u64>())
            .min(in_catalogue);
        let total = regions.saturating_mul(self.accounts_per_region as u64);
        let key = "topology.accounts_per_region";
        if total > MAX_CLOUDS {
            return Err(err(
                key.into(),
                format!(
                    "{regions} regions x {} accounts = {total} clouds: at most {MAX_CLOUDS} are \
                     supported",
                    self.accounts_per_region
                ),
            ));
        }
        let mut clouds: Vec<Cloud> = Vec::new();
        clouds.try_reserve(total as usize).map_err(|_| {
            err(
                key.into(),
                format!("cannot allocate the memory for {total} clouds on this machine"),
            )
        })?;
        let mut used: Vec<String> = Vec::new();
        for (i, c) in self.clouds.iter().enumerate() {
            let key = format!("topology.clouds[{i}]");
            if !providers.contains_key(c.provider.as_str()) {
                return Err(err(
                    key,
                    format!("unknown provider `{}` (known: {})", c.provider, known()),
                ));
            }
            let region = catalogue.find(&c.provider, &c.region).ok_or_else(|| {
                let hint = catalogue.suggest(&c.provider, &c.region);
                let hint = if hint.is_empty() {
                    String::new()
                } else {
                    format!("; did you mean {}?", hint.join(", "))
                };
                err(
                    key.clone(),
                    format!(
                        "unknown region `{}:{}` (not in the region catalogue){hint}",
                        c.provider, c.region
                    ),
                )
            })?;
            if used.contains(&region.key()) {
                return Err(err(key, format!("`{}` is listed twice", region.key())));
            }
            used.push(region.key());
            for account in 1..=self.accounts_per_region {
                clouds.push(Cloud {
                    id: clouds.len() as u32,
                    region: region.clone(),
                    vms: c.vms.unwrap_or(self.vms_per_cloud),
                    account,
                });
            }
        }
        for (name, &count) in &self.mix {
            let key = format!("topology.mix.{name}");
            let provider = &name.to_ascii_lowercase();
            if !providers.contains_key(provider.as_str()) {
                return Err(err(
                    key,
                    format!("unknown provider `{provider}` (known: {})", known()),
                ));
            }
            let mut pool: Vec<&Region> = catalogue
                .of_provider(provider)
                .filter(|r| !used.contains(&r.key()))
                .collect();
            if count as usize > pool.len() {
                return Err(err(
                    key,
                    format!(
                        "asks for {count} clouds but the catalogue has {} unused {provider} regions",
                        pool.len()
                    ),
                ));
            }
            pool.sort_by(|a, b| a.lon.total_cmp(&b.lon).then(a.region.cmp(&b.region)));
            for k in 0..count as usize {
                let r = pool[(2 * k + 1) * pool.len() / (2 * count as usize)];
                used.push(r.key());
                for account in 1..=self.accounts_per_region {
                    clouds.push(Cloud {
                        id: clouds.len() as u32,
                        region: r.clone(),
                        vms: self.vms_per_cloud,
                        account,
                    });
                }
            }
        }
        if clouds.is_empty() {
            return Err(err(
                "topology".into(),
                "no clouds: every count in `mix` is 0 and `clouds` is empty".into(),
            ));
        }
        Ok(clouds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(toml_text: &str) -> TopologySpec {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn mix_spreads_regions_and_is_stable() {
        let c = Catalogue::builtin();
        let s = spec("vms_per_cloud = 5\nmix = { aws = 4, gcp = 3 }\n");
        let clouds = s.resolve(&c).unwrap();
        assert_eq!(clouds.len(), 7);
        assert!(clouds.iter().all(|c| c.vms == 5));
        let aws: Vec<f64> = clouds[..4].iter().map(|c| c.region.lon).collect();
        assert!(aws.windows(2).all(|w| w[0] <= w[1]), "west to east");
        assert!(aws[3] - aws[0] > 90.0, "spread over the globe: {aws:?}");
        assert_eq!(clouds, s.resolve(&c).unwrap());
        for (i, cl) in clouds.iter().enumerate() {
            assert_eq!(cl.id as usize, i);
        }
    }

    #[test]
    fn explicit_clouds_come_first_and_are_not_reused_by_the_mix() {
        let c = Catalogue::builtin();
        let n_aws = c.providers()["aws"] as u32;
        let s = spec(&format!(
            "clouds = [\"aws:us-east-1\", {{ provider = \"gcp\", region = \"europe-west3\", vms = 7 }}]\nmix = {{ aws = {} }}\n",
            n_aws - 1
        ));
        let clouds = s.resolve(&c).unwrap();
        assert_eq!(clouds[0].name(), "aws:us-east-1");
        assert_eq!(clouds[1].vms, 7);
        let mut names: Vec<String> = clouds.iter().map(Cloud::name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), clouds.len());
    }

    #[test]
    fn errors_name_the_key() {
        let c = Catalogue::builtin();
        let e = spec("clouds = [\"aws:us-east-9\"]")
            .resolve(&c)
            .unwrap_err();
        assert_eq!(e.key, "topology.clouds[0]");
        assert!(e.message.contains("did you mean"), "{}", e.message);
        let e = spec("mix = { awz = 1 }").resolve(&c).unwrap_err();
        assert_eq!(e.key, "topology.mix.awz");
        let e = spec("mix = { aws = 1000 }").resolve(&c).unwrap_err();
        assert!(e.message.contains("asks for 1000"));
        let e = spec("clouds = [\"aws:us-east-1\", \"aws:us-east-1\"]")
            .resolve(&c)
            .unwrap_err();
        assert!(e.message.contains("twice"));
        assert!(spec("vms_per_cloud = 1").resolve(&c).is_err());
    }
}
