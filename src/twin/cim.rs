//! Cloud info (CB-Spider's CIM): drivers, credentials, regions and connection configs, and
//! which cloud of the world a connection reaches. A connection to a catalogue provider
//! (`AWS`, `AZURE`, `GCP`, ...) whose region's `Region` key names a catalogue region is that
//! region: the scenario's cloud there, or a new cloud joining the world. A `MOCK` or
//! `CLOUDTWIN` connection is a cloud of its own, one per distinct `MockName` / `DomainName`
//! credential value, as Spider's mock driver and Cloud-Twin kept them apart, located at
//! `serve.emulated_location`.
//!
//! Sources: `../shared/domain/spider-api.md` sections 1.2 (CIM routes and structs), 2 (the
//! mock driver's `MockName`), 4.1 (Cloud-Twin's credentials); `../shared/domain/cloud-barista.md`
//! section 5.

use super::model::{Connection, Peers, Reply, Twin, TwinEvent};
use super::request::{ApiError, ApiRequest, check_name};
use super::routes::Cim;
use super::wire::{
    ConnectionConfigInfo, CredentialInfo, DriverInfo, RegionInfo, RegionZoneInfo, ZoneInfo, kv,
    value_of,
};
use crate::engine::Scheduler;
use crate::model::SubModel;
use crate::topology::{Cloud, Region};
use std::collections::BTreeMap;

/// `GET /cloudos`: the providers the twin answers for (Spider's names).
pub const CLOUD_OS: [&str; 14] = [
    "AWS",
    "AZURE",
    "GCP",
    "ALIBABA",
    "TENCENT",
    "IBM",
    "OPENSTACK",
    "NCP",
    "NHN",
    "KT",
    "OCI",
    "HUAWEI",
    "MOCK",
    "CLOUDTWIN",
];

/// The registered cloud info.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    drivers: BTreeMap<String, DriverInfo>,
    credentials: BTreeMap<String, CredentialInfo>,
    regions: BTreeMap<String, RegionInfo>,
}

fn what(k: Cim) -> &'static str {
    match k {
        Cim::Driver => "driver",
        Cim::Credential => "credential",
        Cim::Region => "region",
        Cim::Connection => "connection config",
    }
}

fn list_key(k: Cim) -> &'static str {
    match k {
        Cim::Driver => "driver",
        Cim::Credential => "credential",
        Cim::Region => "region",
        Cim::Connection => "connectionconfig",
    }
}

/// Credential values are not returned (Spider: "Hidden for security.").
fn hidden(c: &CredentialInfo) -> CredentialInfo {
    let mut c = c.clone();
    for kv in &mut c.key_value_info_list {
        kv.value = "Hidden for security.".into();
    }
    c
}

impl Twin {
    pub(super) fn cim_create<E: TwinEvent>(
        &mut self,
        sched: &mut Scheduler<E>,
        p: &mut Peers<'_>,
        k: Cim,
        req: &ApiRequest,
    ) -> Result<Reply, ApiError> {
        match k {
            Cim::Driver => {
                let d: DriverInfo = req.json()?;
                check_name("driver", &d.driver_name)?;
                check_provider(&d.provider_name)?;
                insert_new(&mut self.cim.drivers, "driver", &d.driver_name, d.clone())?;
                Ok(Reply::ok(&d))
            }
            Cim::Credential => {
                let c: CredentialInfo = req.json()?;
                check_name("credential", &c.credential_name)?;
                check_provider(&c.provider_name)?;
                insert_new(
                    &mut self.cim.credentials,
                    "credential",
                    &c.credential_name,
                    c.clone(),
                )?;
                Ok(Reply::ok(&hidden(&c)))
            }
            Cim::Region => {
                let r: RegionInfo = req.json()?;
                check_name("region", &r.region_name)?;
                check_provider(&r.provider_name)?;
                insert_new(&mut self.cim.regions, "region", &r.region_name, r.clone())?;
                Ok(Reply::ok(&r))
            }
            Cim::Connection => {
                let c: ConnectionConfigInfo = req.json()?;
                check_name("connection config", &c.config_name)?;
                if self.connections.contains_key(&c.config_name) {
                    return Err(ApiError::internal(format!(
                        "connection config '{}' already exists!",
                        c.config_name
                    )));
                }
                let cloud = self.connect(sched, p, &c)?;
                self.connections.insert(
                    c.config_name.clone(),
                    Connection {
                        info: c.clone(),
                        cloud,
                        vpcs: BTreeMap::new(),
                        sgs: BTreeMap::new(),
                        keys: BTreeMap::new(),
                        vms: BTreeMap::new(),
                    },
                );
                Ok(Reply::ok(&c))
            }
        }
    }

    pub(super) fn cim_list(&self, k: Cim) -> Result<Reply, ApiError> {
        let list: Vec<serde_json::Value> = match k {
            Cim::Driver => self.cim.drivers.values().map(to_value).collect(),
            Cim::Credential => self
                .cim
                .credentials
                .values()
                .map(|c| to_value(&hidden(c)))
                .collect(),
            Cim::Region => self.cim.regions.values().map(to_value).collect(),
            Cim::Connection => self
                .connections
                .values()
                .map(|c| to_value(&c.info))
                .collect(),
        };
        Ok(Reply::ok(&serde_json::json!({ list_key(k): list })))
    }

    pub(super) fn cim_get(&self, k: Cim, name: &str) -> Result<Reply, ApiError> {
        let found = match k {
            Cim::Driver => self.cim.drivers.get(name).map(to_value),
            Cim::Credential => self.cim.credentials.get(name).map(|c| to_value(&hidden(c))),
            Cim::Region => self.cim.regions.get(name).map(to_value),
            Cim::Connection => self.connections.get(name).map(|c| to_value(&c.info)),
        };
        found
            .map(|v| Reply::ok(&v))
            .ok_or_else(|| ApiError::not_exist(what(k), name))
    }

    /// Deletes an object nothing refers to: a connection without VMs, a driver, credential or
    /// region no connection uses.
    pub(super) fn cim_delete(&mut self, k: Cim, name: &str) -> Result<Reply, ApiError> {
        let used_by = |f: &dyn Fn(&ConnectionConfigInfo) -> bool| {
            self.connections
                .values()
                .find(|c| f(&c.info))
                .map(|c| c.info.config_name.clone())
        };
        let in_use = match k {
            Cim::Driver => used_by(&|c| c.driver_name == name),
            Cim::Credential => used_by(&|c| c.credential_name == name),
            Cim::Region => used_by(&|c| c.region_name == name),
            Cim::Connection => None,
        };
        if let Some(c) = in_use {
            return Err(ApiError::internal(format!(
                "{} '{name}' is used by connection config '{c}'",
                what(k)
            )));
        }
        let removed = match k {
            Cim::Driver => self.cim.drivers.remove(name).is_some(),
            Cim::Credential => self.cim.credentials.remove(name).is_some(),
            Cim::Region => self.cim.regions.remove(name).is_some(),
            Cim::Connection => {
                if let Some(c) = self.connections.get(name)
                    && !c.vms.is_empty()
                {
                    return Err(ApiError::internal(format!(
                        "connection config '{name}' has {} VM(s): terminate them first",
                        c.vms.len()
                    )));
                }
                self.connections.remove(name).is_some()
            }
        };
        if !removed {
            return Err(ApiError::not_exist(what(k), name));
        }
        Ok(Reply::ok(&serde_json::json!({ "Result": "true" })))
    }

    /// `GET /regionzone[/{name}]`: the connection's region and its zones.
    pub(super) fn region_zones(
        &self,
        p: &Peers<'_>,
        req: &ApiRequest,
        name: Option<&str>,
    ) -> Result<Reply, ApiError> {
        let (_, conn) = self.connection(req)?;
        let region = &p.lifecycle.plan().clouds[conn.cloud as usize].region;
        let info = RegionZoneInfo {
            name: region.region.clone(),
            display_name: region.city.clone(),
            csp_display_name: region.city.clone(),
            zone_list: region
                .zones
                .iter()
                .map(|z| ZoneInfo {
                    name: z.clone(),
                    display_name: z.clone(),
                    csp_display_name: z.clone(),
                    status: "Available".into(),
                    key_value_list: vec![],
                })
                .collect(),
            key_value_list: vec![
                kv("Latitude", region.lat.to_string()),
                kv("Longitude", region.lon.to_string()),
            ],
        };
        match name {
            None => Ok(Reply::ok(&serde_json::json!({ "regionzone": [info] }))),
            Some(n) if n == info.name => Ok(Reply::ok(&info)),
            Some(n) => Err(ApiError::not_exist("region", n)),
        }
    }

    /// The cloud a new connection reaches, adding it to the world if it is new.
    fn connect<E: TwinEvent>(
        &mut self,
        sched: &mut Scheduler<E>,
        p: &mut Peers<'_>,
        c: &ConnectionConfigInfo,
    ) -> Result<u32, ApiError> {
        let driver = self
            .cim
            .drivers
            .get(&c.driver_name)
            .ok_or_else(|| ApiError::not_exist("driver", &c.driver_name))?;
        let cred = self
            .cim
            .credentials
            .get(&c.credential_name)
            .ok_or_else(|| ApiError::not_exist("credential", &c.credential_name))?;
        let region = self
            .cim
            .regions
            .get(&c.region_name)
            .ok_or_else(|| ApiError::not_exist("region", &c.region_name))?;
        let provider = c.provider_name.to_ascii_lowercase();
        for (kind, other) in [
            ("driver", &driver.provider_name),
            ("credential", &cred.provider_name),
            ("region", &region.provider_name),
        ] {
            if !other.eq_ignore_ascii_case(&provider) {
                return Err(ApiError::internal(format!(
                    "the connection's provider {} differs from its {kind}'s ({other})",
                    c.provider_name
                )));
            }
        }
        let wanted: Region = if super::catalog::Catalog::is_emulated(&provider) {
            let key = if provider == "mock" {
                "MockName"
            } else {
                "DomainName"
            };
            let name = value_of(&cred.key_value_info_list, key)
                .filter(|v| !v.is_empty())
                .unwrap_or(&cred.credential_name);
            let mut zones = region.available_zone_list.clone();
            if zones.is_empty()
                && let Some(z) = value_of(&region.key_value_info_list, "Zone")
                && !z.is_empty()
            {
                zones.push(z.to_string());
            }
            let (lat, lon) = self.plan.emulated_at;
            Region {
                provider: provider.clone(),
                region: name.to_string(),
                city: format!("{} {name}", provider.to_ascii_uppercase()),
                country: String::new(),
                lat,
                lon,
                zones,
            }
        } else {
            let code = value_of(&region.key_value_info_list, "Region").unwrap_or_default();
            if self.world.catalogue.of_provider(&provider).next().is_none() {
                return Err(ApiError::internal(format!(
                    "provider {} is not one the twin knows ({})",
                    c.provider_name,
                    CLOUD_OS.join(", ")
                )));
            }
            self.world
                .catalogue
                .find(&provider, code)
                .cloned()
                .ok_or_else(|| {
                    ApiError::internal(format!(
                        "region '{code}' of {} is not in the region catalogue (region '{}')",
                        c.provider_name, c.region_name
                    ))
                })?
        };
        if let Some(cloud) = self
            .world
            .clouds
            .iter()
            .find(|x| x.region.provider == wanted.provider && x.region.region == wanted.region)
        {
            return Ok(cloud.id);
        }
        self.add_cloud(sched, p, wanted)
    }

    /// A new cloud joins the world: every model extends its per-cloud state.
    fn add_cloud<E: TwinEvent>(
        &mut self,
        _sched: &mut Scheduler<E>,
        p: &mut Peers<'_>,
        region: Region,
    ) -> Result<u32, ApiError> {
        let id = self.world.clouds.len() as u32;
        let provider = region.provider.clone();
        self.world.clouds.push(Cloud {
            id,
            region,
            vms: 0,
            account: 1,
        });
        let known = self.world.providers.iter().position(|x| *x == provider);
        let pi = known.unwrap_or(self.world.providers.len());
        if known.is_none() {
            self.world.providers.push(provider);
        }
        self.world.cloud_provider.push(pi as u32);
        // The lifecycle resolves the provider's profile (checked at load for every provider,
        // so this does not fail in practice); on failure the world stays as it was.
        if let Err(e) = SubModel::<E>::cloud_added(p.lifecycle, &self.world) {
            self.world.clouds.pop();
            self.world.cloud_provider.pop();
            if known.is_none() {
                self.world.providers.pop();
            }
            return Err(ApiError::internal(format!(
                "the cloud cannot join: {}",
                e.message
            )));
        }
        // Monitoring, control and CLADNet only extend tables: they cannot fail.
        if let Some(m) = p.monitoring.as_deref_mut() {
            let _ = SubModel::<E>::cloud_added(m, &self.world);
        }
        let _ = SubModel::<E>::cloud_added(p.control, &self.world);
        let _ = SubModel::<E>::cloud_added(p.cladnet, &self.world);
        Ok(id)
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("wire objects serialize")
}

fn check_provider(name: &str) -> Result<(), ApiError> {
    if CLOUD_OS.iter().any(|p| p.eq_ignore_ascii_case(name)) {
        Ok(())
    } else {
        Err(ApiError::internal(format!(
            "provider '{name}' is not one the twin knows ({})",
            CLOUD_OS.join(", ")
        )))
    }
}

fn insert_new<T>(
    map: &mut BTreeMap<String, T>,
    what: &str,
    name: &str,
    v: T,
) -> Result<(), ApiError> {
    if map.contains_key(name) {
        return Err(ApiError::internal(format!(
            "{what} '{name}' already exists!"
        )));
    }
    map.insert(name.to_string(), v);
    Ok(())
}
