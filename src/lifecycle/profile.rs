//! Per-provider behaviour: timings, failure probability, timeouts, concurrency and API rate
//! limits, and the provider's native status names with CB-Spider's mapping of them.
//!
//! Values come in layers, each overriding the one before: `[defaults]` of
//! `models/providers.toml`, that file's `[providers.<name>]`, the scenario's `[lifecycle]`, and
//! the scenario's `[lifecycle.providers.<name>]`. Provenance of every default is in the file.

use super::status::VmStatus;
use crate::engine::{DurationDist, Probability, SimDuration};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The built-in provider profiles.
pub const BUILTIN_PROVIDERS_TOML: &str = include_str!("../../models/providers.toml");

/// Declares a struct holding every provider behaviour key (all optional, so profiles can be
/// layered) plus the struct's own fields, and `profile()` to extract the behaviour keys.
/// (`serde(flatten)` would do this, but it cannot be combined with `deny_unknown_fields`.)
macro_rules! with_profile_keys {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $f:ident : $t:ty,)* }) => {
        $(#[$m])*
        pub struct $name {
            /// Latency of one provider API request as CB-Tumblebug sees it.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub api_delay: Option<$crate::engine::DurationDist>,
            /// Probability that a VM creation request fails.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub create_failure_p: Option<$crate::engine::Probability>,
            /// From create accepted to Running.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub boot_time: Option<$crate::engine::DurationDist>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub suspend_time: Option<$crate::engine::DurationDist>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub resume_time: Option<$crate::engine::DurationDist>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub reboot_time: Option<$crate::engine::DurationDist>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub terminate_time: Option<$crate::engine::DurationDist>,
            /// A VM not Running this long after its create call started becomes Failed.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub create_timeout: Option<$crate::engine::SimDuration>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub control_timeout: Option<$crate::engine::SimDuration>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub terminate_timeout: Option<$crate::engine::SimDuration>,
            /// Regions of one provider with creates in flight at once.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub max_concurrent_regions: Option<u32>,
            /// Creates in flight per region.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub max_vms_per_region: Option<u32>,
            /// Provider API calls per second (0 = unlimited).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub api_rate: Option<f64>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub api_burst: Option<u32>,
            $($(#[$fm])* pub $f: $t,)*
        }
        impl $name {
            /// The provider behaviour keys this table sets.
            pub fn profile(&self) -> $crate::lifecycle::profile::ProfileSpec {
                $crate::lifecycle::profile::ProfileSpec {
                    api_delay: self.api_delay.clone(),
                    create_failure_p: self.create_failure_p,
                    boot_time: self.boot_time.clone(),
                    suspend_time: self.suspend_time.clone(),
                    resume_time: self.resume_time.clone(),
                    reboot_time: self.reboot_time.clone(),
                    terminate_time: self.terminate_time.clone(),
                    create_timeout: self.create_timeout,
                    control_timeout: self.control_timeout,
                    terminate_timeout: self.terminate_timeout,
                    max_concurrent_regions: self.max_concurrent_regions,
                    max_vms_per_region: self.max_vms_per_region,
                    api_rate: self.api_rate,
                    api_burst: self.api_burst,
                }
            }
        }
    };
}
pub(crate) use with_profile_keys;

with_profile_keys! {
    /// Provider behaviour keys; every one optional so profiles can be layered.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ProfileSpec {}
}

/// What a layer of provider keys does with its fields, from one list of them: lay another
/// layer over it, and say which keys it sets.
macro_rules! layer_ops {
    ($($f:ident),* $(,)?) => {
        impl ProfileSpec {
            /// Overrides this layer's keys with the ones `upper` sets.
            pub fn overlay(&mut self, upper: &ProfileSpec) {
                $( if upper.$f.is_some() { self.$f = upper.$f.clone(); } )*
            }

            /// Whether this layer sets the key `name` (`api_rate`, `boot_time`, ...).
            pub fn sets(&self, name: &str) -> bool {
                match name {
                    $( stringify!($f) => self.$f.is_some(), )*
                    _ => false,
                }
            }
        }
    };
}

layer_ops!(
    api_delay,
    create_failure_p,
    boot_time,
    suspend_time,
    resume_time,
    reboot_time,
    terminate_time,
    create_timeout,
    control_timeout,
    terminate_timeout,
    max_concurrent_regions,
    max_vms_per_region,
    api_rate,
    api_burst,
);

with_profile_keys! {
    /// A provider entry of `models/providers.toml`.
    #[derive(Clone, Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ProviderEntry {
        /// Native status name per canonical status.
        pub native: BTreeMap<String, String>,
        /// CB-Spider's mapping of native names.
        pub spider: BTreeMap<String, String>,
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProvidersFile {
    defaults: ProfileSpec,
    providers: BTreeMap<String, ProviderEntry>,
}

/// Fully resolved behaviour of one provider.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    pub provider: String,
    pub api_delay: DurationDist,
    pub create_failure_p: Probability,
    pub boot_time: DurationDist,
    pub suspend_time: DurationDist,
    pub resume_time: DurationDist,
    pub reboot_time: DurationDist,
    pub terminate_time: DurationDist,
    pub create_timeout: SimDuration,
    pub control_timeout: SimDuration,
    pub terminate_timeout: SimDuration,
    pub max_concurrent_regions: u32,
    pub max_vms_per_region: u32,
    /// Calls per second (0 = unlimited).
    pub api_rate: f64,
    pub api_burst: u32,
    /// Native status name per canonical status.
    pub native: [String; VmStatus::COUNT],
    /// CB-Spider status per canonical status (the mapping applied to `native`).
    pub spider: [String; VmStatus::COUNT],
}

/// Why a provider's profile does not resolve: the behaviour key at fault, if one is (`api_rate`,
/// `boot_time`, ...; none for a malformed status table), and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileError {
    pub key: Option<&'static str>,
    pub message: String,
}

impl ProfileError {
    fn of_key(key: &'static str, message: String) -> Self {
        ProfileError {
            key: Some(key),
            message,
        }
    }

    fn of_table(message: String) -> Self {
        ProfileError { key: None, message }
    }
}

impl std::fmt::Display for ProfileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The built-in provider table.
#[derive(Clone, Debug)]
pub struct ProviderTable {
    defaults: ProfileSpec,
    providers: BTreeMap<String, ProviderEntry>,
}

impl ProviderTable {
    pub fn builtin() -> Self {
        Self::from_toml(BUILTIN_PROVIDERS_TOML).expect("models/providers.toml is valid")
    }

    pub fn from_toml(text: &str) -> Result<Self, String> {
        let f: ProvidersFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let t = ProviderTable {
            defaults: f.defaults,
            providers: f.providers,
        };
        // The defaults must be complete, and every provider's status tables well formed.
        t.resolve("(defaults)", &[])
            .map_err(|e| format!("[defaults]: {e}"))?;
        for name in t.providers.keys() {
            t.resolve(name, &[])
                .map_err(|e| format!("[providers.{name}]: {e}"))?;
        }
        Ok(t)
    }

    pub fn known(&self) -> impl Iterator<Item = &str> {
        self.providers.keys().map(String::as_str)
    }

    /// The profile of `provider` with scenario layers applied in order.
    pub fn resolve(
        &self,
        provider: &str,
        layers: &[&ProfileSpec],
    ) -> Result<Profile, ProfileError> {
        let mut spec = self.defaults.clone();
        let entry = self.providers.get(provider);
        if let Some(e) = entry {
            spec.overlay(&e.profile());
        }
        for l in layers {
            spec.overlay(l);
        }
        let missing = |k: &'static str| ProfileError::of_key(k, format!("`{k}` is not set"));
        let mut native: [String; VmStatus::COUNT] = Default::default();
        let mut spider: [String; VmStatus::COUNT] = Default::default();
        for s in VmStatus::ALL {
            let (n, sp) = match entry {
                Some(e) if s != VmStatus::Undefined => {
                    let n = e.native.get(s.name()).ok_or_else(|| {
                        ProfileError::of_table(format!("native has no `{}`", s.name()))
                    })?;
                    let sp = e.spider.get(n).ok_or_else(|| {
                        ProfileError::of_table(format!("spider has no mapping for native `{n}`"))
                    })?;
                    (n.clone(), sp.clone())
                }
                // Unknown providers (or Undefined): the canonical name stands for both.
                _ => (s.name().to_string(), s.name().to_string()),
            };
            native[s.index()] = n;
            spider[s.index()] = sp;
        }
        if let Some(e) = entry
            && let Some(k) = e.native.keys().find(|k| VmStatus::from_name(k).is_none())
        {
            return Err(ProfileError::of_table(format!(
                "native has unknown status `{k}`"
            )));
        }
        let rate = spec.api_rate.ok_or_else(|| missing("api_rate"))?;
        if !(rate.is_finite() && rate >= 0.0) {
            return Err(ProfileError::of_key(
                "api_rate",
                format!(
                    "`api_rate` must be a finite number >= 0 (calls per second, 0 = unlimited), found {rate}"
                ),
            ));
        }
        let positive = |v: Option<u32>, k: &'static str| -> Result<u32, ProfileError> {
            match v {
                Some(0) => Err(ProfileError::of_key(k, format!("`{k}` must be at least 1"))),
                Some(n) => Ok(n),
                None => Err(missing(k)),
            }
        };
        Ok(Profile {
            provider: provider.to_string(),
            api_delay: spec.api_delay.ok_or_else(|| missing("api_delay"))?,
            create_failure_p: spec
                .create_failure_p
                .ok_or_else(|| missing("create_failure_p"))?,
            boot_time: spec.boot_time.ok_or_else(|| missing("boot_time"))?,
            suspend_time: spec.suspend_time.ok_or_else(|| missing("suspend_time"))?,
            resume_time: spec.resume_time.ok_or_else(|| missing("resume_time"))?,
            reboot_time: spec.reboot_time.ok_or_else(|| missing("reboot_time"))?,
            terminate_time: spec
                .terminate_time
                .ok_or_else(|| missing("terminate_time"))?,
            create_timeout: spec
                .create_timeout
                .ok_or_else(|| missing("create_timeout"))?,
            control_timeout: spec
                .control_timeout
                .ok_or_else(|| missing("control_timeout"))?,
            terminate_timeout: spec
                .terminate_timeout
                .ok_or_else(|| missing("terminate_timeout"))?,
            max_concurrent_regions: positive(
                spec.max_concurrent_regions,
                "max_concurrent_regions",
            )?,
            max_vms_per_region: positive(spec.max_vms_per_region, "max_vms_per_region")?,
            api_rate: rate,
            api_burst: positive(spec.api_burst, "api_burst")?,
            native,
            spider,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profiles_resolve_with_spider_quirks() {
        let t = ProviderTable::builtin();
        let aws = t.resolve("aws", &[]).unwrap();
        assert_eq!(aws.native[VmStatus::Running.index()], "running");
        // CB-Spider maps AWS "pending" to Resuming, even while creating.
        assert_eq!(aws.spider[VmStatus::Creating.index()], "Resuming");
        let gcp = t.resolve("gcp", &[]).unwrap();
        // GCP's TERMINATED means stopped: Spider reports Suspended.
        assert_eq!(gcp.spider[VmStatus::Suspended.index()], "Suspended");
        assert!(t.known().count() >= 10);
    }

    /// `sets` knows every key a layer can hold: the built-in defaults set them all, and
    /// each key they serialize is one `sets` answers for; an empty layer sets none.
    #[test]
    fn sets_answers_for_every_key() {
        let defaults = ProviderTable::builtin().defaults;
        let keys = toml::Value::try_from(&defaults).unwrap();
        let keys = keys.as_table().unwrap();
        assert_eq!(keys.len(), 14, "{keys:?}");
        for k in keys.keys() {
            assert!(defaults.sets(k), "{k}");
            assert!(!ProfileSpec::default().sets(k), "{k}");
        }
        assert!(!defaults.sets("no_such_key"));
    }

    /// A profile that does not resolve names the key at fault (the plan blames the layer
    /// that set it), or none for a malformed status table.
    #[test]
    fn resolve_errors_name_their_key() {
        let t = ProviderTable::builtin();
        let layer = |spec: ProfileSpec| t.resolve("aws", &[&spec]).unwrap_err();
        let e = layer(ProfileSpec {
            api_rate: Some(-1.0),
            ..Default::default()
        });
        assert_eq!(e.key, Some("api_rate"));
        assert!(e.message.contains("found -1"), "{e}");
        let e = layer(ProfileSpec {
            max_vms_per_region: Some(0),
            ..Default::default()
        });
        assert_eq!(e.key, Some("max_vms_per_region"));
        // A malformed status table has no key to blame; the table's own check says where.
        let bad =
            BUILTIN_PROVIDERS_TOML.replacen("Running = \"running\"", "Running = \"runing\"", 1);
        assert_ne!(bad, BUILTIN_PROVIDERS_TOML);
        let e = ProviderTable::from_toml(&bad).unwrap_err();
        assert!(
            e.starts_with("[providers.aws]: ") && e.contains("native `runing`"),
            "{e}"
        );
    }

    #[test]
    fn layers_override_in_order() {
        let t = ProviderTable::builtin();
        let global = ProfileSpec {
            create_failure_p: Some(Probability::new(0.2).unwrap()),
            max_vms_per_region: Some(7),
            ..Default::default()
        };
        let per = ProfileSpec {
            create_failure_p: Some(Probability::new(0.5).unwrap()),
            ..Default::default()
        };
        let p = t.resolve("aws", &[&global, &per]).unwrap();
        assert_eq!(p.create_failure_p.get(), 0.5);
        assert_eq!(p.max_vms_per_region, 7);
        let unknown = t.resolve("someprovider", &[]).unwrap();
        assert_eq!(unknown.native[VmStatus::Running.index()], "Running");
    }
}
