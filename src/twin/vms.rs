//! VMs through CB-Spider's API, behaving as the clouds behind Spider do. `POST /vm` checks the
//! request as Spider's mock driver does (image, spec, VPC, subnet, security groups, key pair),
//! creates the VM in the simulation, and answers when it is Running (200 and its `VMInfo`) or
//! has failed (500; it then reads `Failed`), or at once with `Creating` under
//! `serve.create_returns = "creating"` (Spider v0.5). Suspend, resume and reboot answer at once
//! with the transitional status, which `GET /vmstatus` shows for the simulated duration; a
//! suspend of a suspended VM or a resume of a running one succeeds without effect (as the mock
//! driver), while a reboot of a suspended VM, or any action on a VM that is failed, terminated
//! or busy with another operation, is a 500 naming its status. `DELETE /vm` answers once the VM
//! is Terminated, and then it is gone; `?force=true` removes it at once whatever it was doing.
//! Statuses are the provider's native ones as Spider's driver maps them.
//!
//! Sources: `../shared/domain/spider-api.md` sections 1.5 (VM endpoints, `VMInfo`), 2 (the
//! mock driver) and 8 (what clients expect of the timing).

use super::config::CreateReturns;
use super::model::{Peers, Reply, Twin, TwinEvent, VmRecord, Waiting};
use super::request::{ApiError, ApiRequest, check_name};
use super::wire::{Envelope, IId, RegionRef, VmInfo, VmReq, VmStatusInfo, kv};
use crate::engine::{Scheduler, SimTime};
use crate::lifecycle::{Action, Lifecycle, VmStatus};

impl Twin {
    pub(super) fn vm_start<E: TwinEvent>(
        &mut self,
        sched: &mut Scheduler<E>,
        p: &mut Peers<'_>,
        id: u64,
        req: &ApiRequest,
    ) -> Result<Reply, ApiError> {
        let env: Envelope<VmReq> = req.json()?;
        let conn = env.connection_name;
        if conn.is_empty() {
            return Err(ApiError::internal("ConnectionName is required"));
        }
        let r = env
            .req_info
            .ok_or_else(|| ApiError::bad_request("ReqInfo is required"))?;
        check_name("VM", &r.name)?;
        let c = self.known(&conn)?;
        if c.vms.contains_key(&r.name) {
            return Err(ApiError::internal(format!(
                "VM '{}' already exists in connection '{conn}'",
                r.name
            )));
        }
        let cloud = c.cloud;
        let region = p.lifecycle.plan().clouds[cloud as usize].region.clone();
        let image = self
            .catalog
            .image(&region.provider, &r.image_name)
            .ok_or_else(|| {
                ApiError::internal(format!("{} image does not exist!!", r.image_name))
            })?;
        let (spec, _) = self
            .catalog
            .spec(&region.provider, &region.region, &r.vm_spec_name)
            .ok_or_else(|| {
                ApiError::internal(format!("{} VMSpec does not exist!!", r.vm_spec_name))
            })?;
        let vpc = c
            .vpcs
            .get(&r.vpc_name)
            .ok_or_else(|| ApiError::internal(format!("{} VPC does not exist!!", r.vpc_name)))?;
        if !vpc
            .subnet_info_list
            .iter()
            .any(|s| s.iid.name_id == r.subnet_name)
        {
            return Err(ApiError::internal(format!(
                "{} Subnet does not exist in VPC {}!!",
                r.subnet_name, r.vpc_name
            )));
        }
        for sg in &r.security_group_names {
            if !c.sgs.contains_key(sg) {
                return Err(ApiError::internal(format!(
                    "{sg} SecurityGroup does not exist!!"
                )));
            }
        }
        if !c.keys.contains_key(&r.key_pair_name) {
            return Err(ApiError::internal(format!(
                "{} KeyPair does not exist!!",
                r.key_pair_name
            )));
        }
        let mcis = self.plan.mcis;
        let vm = p
            .lifecycle
            .spawn_vm(sched, mcis, cloud, &spec, &r.name)
            .ok_or_else(|| {
                ApiError::internal(format!(
                    "no VM slot left: the twin holds serve.max_vms = {} VMs",
                    self.plan.spec.max_vms
                ))
            })?;
        if let Some(m) = p.monitoring.as_deref_mut() {
            m.place_agent(vm, cloud, self.world.cloud_provider[cloud as usize]);
        }
        let system_id = self.system_id(&r.name);
        let name = r.name.clone();
        self.vms.insert(
            vm,
            VmRecord {
                connection: conn.clone(),
                req: r,
                system_id,
                image,
                created: sched.now(),
            },
        );
        self.conn_mut(&conn)?.vms.insert(name, vm);
        if self.plan.spec.create_returns == CreateReturns::Creating {
            self.stats.created_ok();
            return Ok(Reply::Json(200, self.vm_info_json(p.lifecycle, vm)));
        }
        self.waiting.insert(
            vm,
            Waiting {
                id,
                label: "",
                arrived: sched.now(),
                delete: false,
            },
        );
        Ok(Reply::Later(vm))
    }

    /// The VM named `name` in the request's connection.
    fn vm_named(&self, req: &ApiRequest, name: &str) -> Result<u32, ApiError> {
        let (_, c) = self.connection(req)?;
        c.vms
            .get(name)
            .copied()
            .ok_or_else(|| ApiError::internal(format!("VM '{name}' does not exist!")))
    }

    pub(super) fn vm_list(&self, p: &Peers<'_>, req: &ApiRequest) -> Result<Reply, ApiError> {
        let (_, c) = self.connection(req)?;
        let list: Vec<VmInfo> = c
            .vms
            .values()
            .map(|vm| self.vm_info(p.lifecycle, *vm))
            .collect();
        Ok(Reply::ok(&serde_json::json!({ "vm": list })))
    }

    pub(super) fn vm_get(
        &self,
        p: &Peers<'_>,
        req: &ApiRequest,
        name: &str,
    ) -> Result<Reply, ApiError> {
        let vm = self.vm_named(req, name)?;
        Ok(Reply::Json(200, self.vm_info_json(p.lifecycle, vm)))
    }

    pub(super) fn vm_all(&self, req: &ApiRequest) -> Result<Reply, ApiError> {
        let (_, c) = self.connection(req)?;
        let iids: Vec<IId> = c
            .vms
            .iter()
            .map(|(n, vm)| IId::new(n, &self.vms[vm].system_id))
            .collect();
        Ok(Reply::ok(&super::resources::all_list(
            iids.iter().collect(),
        )))
    }

    pub(super) fn vm_count_of(&self, conn: &str) -> Result<Reply, ApiError> {
        let c = self.known(conn)?;
        Ok(Reply::ok(&serde_json::json!({ "count": c.vms.len() })))
    }

    pub(super) fn vm_status_list(
        &self,
        p: &Peers<'_>,
        req: &ApiRequest,
    ) -> Result<Reply, ApiError> {
        let (_, c) = self.connection(req)?;
        let list: Vec<VmStatusInfo> = c
            .vms
            .iter()
            .map(|(n, vm)| VmStatusInfo {
                iid: IId::new(n, &self.vms[vm].system_id),
                vm_status: status_of(p.lifecycle, *vm).to_string(),
            })
            .collect();
        Ok(Reply::ok(&serde_json::json!({ "vmstatus": list })))
    }

    pub(super) fn vm_status_get(
        &self,
        p: &Peers<'_>,
        req: &ApiRequest,
        name: &str,
    ) -> Result<Reply, ApiError> {
        let vm = self.vm_named(req, name)?;
        Ok(Reply::ok(
            &serde_json::json!({ "Status": status_of(p.lifecycle, vm) }),
        ))
    }

    /// `GET|PUT /controlvm/{name}?action=suspend|resume|reboot`.
    pub(super) fn vm_control<E: TwinEvent>(
        &mut self,
        sched: &mut Scheduler<E>,
        p: &mut Peers<'_>,
        req: &ApiRequest,
        name: &str,
    ) -> Result<Reply, ApiError> {
        let action = req.query_param("action").unwrap_or_default();
        let (action, answer) = match action.to_ascii_lowercase().as_str() {
            "suspend" => (Action::Suspend, "Suspending"),
            "resume" => (Action::Resume, "Resuming"),
            "reboot" => (Action::Reboot, "Rebooting"),
            _ => {
                return Err(ApiError::internal(format!(
                    "{action} is not a valid action!!"
                )));
            }
        };
        let vm = self.vm_named(req, name)?;
        let status = p.lifecycle.status(vm).unwrap_or(VmStatus::Terminated);
        let busy = p.lifecycle.in_flight(vm).is_some();
        let apply = match (action, status) {
            _ if busy => None,
            (Action::Suspend, VmStatus::Running) => Some(true),
            (Action::Suspend, VmStatus::Suspended) => Some(false),
            (Action::Resume, VmStatus::Suspended) => Some(true),
            (Action::Resume, VmStatus::Running) => Some(false),
            (Action::Reboot, VmStatus::Running) => Some(true),
            (Action::Reboot, VmStatus::Suspended) => {
                return Err(ApiError::internal(
                    "reboot not supported in SUSPENDED status",
                ));
            }
            _ => None,
        };
        match apply {
            Some(true) => p.lifecycle.act(sched, vm, action),
            Some(false) => {}
            None => {
                return Err(ApiError::internal(format!(
                    "VM '{name}' is {}: cannot {} it",
                    status.name(),
                    action.name().to_ascii_lowercase()
                )));
            }
        }
        Ok(Reply::ok(&serde_json::json!({ "Status": answer })))
    }

    /// `DELETE /vm/{name}[?force=true]`.
    pub(super) fn vm_delete<E: TwinEvent>(
        &mut self,
        sched: &mut Scheduler<E>,
        p: &mut Peers<'_>,
        id: u64,
        req: &ApiRequest,
        name: &str,
    ) -> Result<Reply, ApiError> {
        let force = req.query_param("force").is_some_and(|f| f == "true");
        let vm = self.vm_named(req, name)?;
        if let Some(w) = self.waiting.get(&vm)
            && w.delete
        {
            return Err(ApiError::internal(format!(
                "VM '{name}' is already being terminated"
            )));
        }
        let status = p.lifecycle.status(vm).unwrap_or(VmStatus::Terminated);
        let terminable = p.lifecycle.in_flight(vm).is_none()
            && matches!(
                status,
                VmStatus::Running | VmStatus::Suspended | VmStatus::Failed
            );
        if terminable && p.lifecycle.delete_vm(sched, vm) {
            self.waiting.insert(
                vm,
                Waiting {
                    id,
                    label: "",
                    arrived: sched.now(),
                    delete: true,
                },
            );
            return Ok(Reply::Later(vm));
        }
        if !force {
            return Err(ApiError::internal(format!(
                "VM '{name}' is {}: cannot terminate it now (?force=true removes it)",
                status.name()
            )));
        }
        // Forced: whatever it was doing, it is gone now; a create waiting for it fails.
        let now = sched.now();
        if let Some(w) = self.waiting.remove(&vm) {
            let e = ApiError::internal(format!("VM '{name}' was deleted while being created"));
            self.answer(now, w.id, w.label, w.arrived, e.status, e.body());
        }
        p.lifecycle.remove_now(sched, vm);
        Ok(Reply::ok(&serde_json::json!({ "Status": "Terminated" })))
    }

    /// The VM's `VMInfo` as JSON text.
    pub(super) fn vm_info_json(&self, lc: &Lifecycle, vm: u32) -> String {
        serde_json::to_string(&self.vm_info(lc, vm)).expect("VMInfo serializes")
    }

    /// The VM's `VMInfo`: what was asked for, where it runs, and its addresses.
    pub(super) fn vm_info(&self, lc: &Lifecycle, vm: u32) -> VmInfo {
        let rec = &self.vms[&vm];
        let pv = lc.vm_plan(vm);
        let region = &lc.plan().clouds[pv.cloud as usize].region;
        let zone = region
            .zones
            .get(pv.zone as usize)
            .cloned()
            .unwrap_or_default();
        let r = &rec.req;
        let c = &self.connections[&rec.connection];
        let sys = |m: Option<&IId>, name: &str| m.cloned().unwrap_or_else(|| IId::new(name, name));
        let vpc = c.vpcs.get(&r.vpc_name);
        let subnet = vpc.and_then(|v| {
            v.subnet_info_list
                .iter()
                .find(|s| s.iid.name_id == r.subnet_name)
                .map(|s| s.iid.clone())
        });
        let public = public_ip(vm);
        let private = private_ip(pv.cloud, vm);
        let dns = format!("{}.spider.barista.com", r.name);
        let windows = rec.image.os_platform.eq_ignore_ascii_case("windows");
        VmInfo {
            iid: IId::new(&r.name, &rec.system_id),
            start_time: rfc3339(self.plan.spec.epoch_s, rec.created),
            region: RegionRef {
                region: region.region.clone(),
                zone,
            },
            image_type: if r.image_type.is_empty() {
                "PublicImage".into()
            } else {
                r.image_type.clone()
            },
            image_iid: rec.image.iid.clone(),
            vm_spec_name: r.vm_spec_name.clone(),
            vpc_iid: sys(vpc.map(|v| &v.iid), &r.vpc_name),
            subnet_iid: subnet.unwrap_or_else(|| IId::new(&r.subnet_name, &r.subnet_name)),
            security_group_iids: r
                .security_group_names
                .iter()
                .map(|s| sys(c.sgs.get(s).map(|g| &g.iid), s))
                .collect(),
            key_pair_iid: sys(
                c.keys.get(&r.key_pair_name).map(|k| &k.iid),
                &r.key_pair_name,
            ),
            root_disk_type: or(&r.root_disk_type, "default"),
            root_disk_size: or(&r.root_disk_size, "32"),
            root_device_name: "/dev/sda1".into(),
            data_disk_iids: vec![],
            vm_boot_disk: "/dev/sda1".into(),
            vm_block_disk: "/dev/sda1".into(),
            vm_user_id: or(
                &r.vm_user_id,
                if windows { "Administrator" } else { "cb-user" },
            ),
            vm_user_passwd: r.vm_user_passwd.clone(),
            network_interface: "eth0".into(),
            public_ip: public.clone(),
            public_ips: vec![public.clone()],
            public_dns: dns.clone(),
            private_ip: private.clone(),
            private_ips: vec![private],
            private_dns: dns,
            platform: if windows { "WINDOWS" } else { "LINUX/UNIX" }.into(),
            ssh_access_point: format!("{public}:22"),
            access_point: format!("{public}:22"),
            tag_list: r.tag_list.clone(),
            key_value_list: vec![
                kv("CloudTwinCloud", lc.plan().clouds[pv.cloud as usize].name()),
                kv("CloudTwinVM", vm.to_string()),
            ],
        }
    }
}

/// The status Spider reports (the provider's native status mapped by its driver).
fn status_of(lc: &Lifecycle, vm: u32) -> &str {
    lc.spider_status(vm).unwrap_or("NotExist")
}

fn or(v: &str, default: &str) -> String {
    if v.is_empty() {
        default.to_string()
    } else {
        v.to_string()
    }
}

/// A VM's public address: one of 198.18.0.0/15 (reserved for benchmarks, RFC 2544), by id.
fn public_ip(vm: u32) -> String {
    let n = vm % (1 << 17);
    format!("198.{}.{}.{}", 18 + (n >> 16), (n >> 8) & 255, n & 255)
}

/// A VM's private address in its cloud's 10.x/16.
fn private_ip(cloud: u32, vm: u32) -> String {
    format!("10.{}.{}.{}", cloud % 256, (vm >> 8) & 255, vm & 255)
}

/// RFC 3339 (UTC, seconds) of simulated time `t` after Unix time `epoch_s`.
pub fn rfc3339(epoch_s: u64, t: SimTime) -> String {
    let secs = epoch_s + t.as_nanos() / 1_000_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_addresses() {
        assert_eq!(rfc3339(0, SimTime::ZERO), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(1_796_256_000, SimTime::from_secs(3_661)),
            "2026-12-03T01:01:01Z"
        );
        assert_eq!(rfc3339(951_782_400, SimTime::ZERO), "2000-02-29T00:00:00Z");
        assert_eq!(public_ip(0), "198.18.0.0");
        assert_eq!(public_ip(65_536 + 258), "198.19.1.2");
        assert_eq!(private_ip(3, 513), "10.3.2.1");
    }
}
