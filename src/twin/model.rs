//! The twin as a model of the run: CB-Spider's view of the clouds. Each request arrives as an
//! event at its simulated time, in arrival order, and is answered at once or, for the calls
//! that block in Spider (`POST /vm` until the VM runs, `DELETE /vm` until it is gone), when the
//! lifecycle's notices say so. It keeps what Spider keeps: the registered drivers,
//! credentials, regions and connections (`cim.rs`), each connection's VPCs, security groups and
//! key pairs (`resources.rs`) and VMs (`vms.rs`); it drives the other models through its peers;
//! and it counts every answer by route and status (`stats.rs`, `api.csv`). The admin routes
//! (`admin.rs`) inject outages, change providers and read the twin's state.
//!
//! Sources: `../shared/domain/spider-api.md` sections 1, 2 and 8.

use super::catalog::Catalog;
use super::plan::Plan;
use super::request::{ApiAnswer, ApiError, ApiRequest};
use super::routes::{self, Route};
use super::stats::ApiStats;
use super::wire;
use crate::cladnet::{CladEvent, Cladnet};
use crate::control::{Controller, CtlEvent};
use crate::engine::{EntityId, Scheduler, SimTime};
use crate::lifecycle::{LcEvent, Lifecycle};
use crate::model::{Notice, Resolved, Results, SubModel};
use crate::monitoring::{MonEvent, Monitoring};
use crate::output::{Summary, Table};
use std::collections::{BTreeMap, VecDeque};

/// The twin's events.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ApiEvent {
    /// The next request in the inbox arrives (requests are handled in arrival order).
    Request,
}

/// The world's event type as the twin needs it: it schedules every model's events.
pub trait TwinEvent:
    Copy
    + From<ApiEvent>
    + From<LcEvent>
    + From<MonEvent>
    + From<CtlEvent>
    + From<CladEvent>
    + crate::monitoring::AsMonEvent
{
}
impl<T> TwinEvent for T where
    T: Copy
        + From<ApiEvent>
        + From<LcEvent>
        + From<MonEvent>
        + From<CtlEvent>
        + From<CladEvent>
        + crate::monitoring::AsMonEvent
{
}

/// The models the twin drives.
pub struct Peers<'a> {
    pub lifecycle: &'a mut Lifecycle,
    pub monitoring: Option<&'a mut Monitoring>,
    pub control: &'a mut Controller,
    pub cladnet: &'a mut Cladnet,
}

/// What a handler answers.
pub(super) enum Reply {
    /// A status and a JSON body.
    Json(u16, String),
    /// `204 No Content`.
    Empty,
    /// Answered later, when the VM it waits for runs, fails or is gone.
    Later(u32),
}

impl Reply {
    pub(super) fn ok<T: serde::Serialize>(value: &T) -> Reply {
        Reply::Json(
            200,
            serde_json::to_string(value).expect("wire objects serialize"),
        )
    }
}

/// A connection: the cloud it reaches and Spider's objects in it.
#[derive(Clone, Debug)]
pub(super) struct Connection {
    pub info: wire::ConnectionConfigInfo,
    pub cloud: u32,
    pub vpcs: BTreeMap<String, wire::VpcInfo>,
    pub sgs: BTreeMap<String, wire::SecurityInfo>,
    pub keys: BTreeMap<String, wire::KeyPairInfo>,
    /// VM name -> VM id.
    pub vms: BTreeMap<String, u32>,
}

/// A VM created through the API: what the request asked for.
#[derive(Clone, Debug)]
pub(super) struct VmRecord {
    pub connection: String,
    pub req: wire::VmReq,
    pub system_id: String,
    pub image: wire::ImageInfo,
    pub created: SimTime,
}

/// An answer waiting for a VM.
#[derive(Clone, Debug)]
pub(super) struct Waiting {
    pub id: u64,
    pub label: &'static str,
    pub arrived: SimTime,
    pub delete: bool,
}

/// The twin's state.
pub struct Twin {
    pub(super) plan: Plan,
    pub(super) entity: EntityId,
    pub(super) inbox: VecDeque<(u64, ApiRequest)>,
    pub(super) outbox: Vec<ApiAnswer>,
    pub(super) catalog: Catalog,
    pub(super) cim: super::cim::Registry,
    pub(super) connections: BTreeMap<String, Connection>,
    pub(super) vms: BTreeMap<u32, VmRecord>,
    pub(super) waiting: BTreeMap<u32, Waiting>,
    /// The world as it grows (clouds join as connections are registered).
    pub(super) world: Resolved,
    pub(super) stats: ApiStats,
    /// Objects created so far (their `SystemId`s are numbered).
    pub(super) created: u64,
}

impl Twin {
    /// Builds the twin from its plan.
    pub fn new<E: From<ApiEvent> + Copy>(plan: &Plan, sched: &mut Scheduler<E>) -> Self {
        Twin {
            entity: sched.alloc_entities(1).get(0),
            inbox: VecDeque::new(),
            outbox: Vec::new(),
            catalog: Catalog::builtin(),
            cim: super::cim::Registry::default(),
            connections: BTreeMap::new(),
            vms: BTreeMap::new(),
            waiting: BTreeMap::new(),
            world: plan.world.clone(),
            stats: ApiStats::new(),
            created: 0,
            plan: plan.clone(),
        }
    }

    /// A request arriving at `at` (not before the scheduler's clock): it is handled after
    /// every event before `at` and after the requests that arrived before it.
    pub fn submit<E: From<ApiEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        at: SimTime,
        id: u64,
        req: ApiRequest,
    ) {
        self.inbox.push_back((id, req));
        self.stats.arrived();
        sched.post_at(at, self.entity, ApiEvent::Request.into());
    }

    /// The answers given since the last call, in the order given.
    pub fn take_answers(&mut self) -> Vec<ApiAnswer> {
        std::mem::take(&mut self.outbox)
    }

    /// Requests, answers and error answers so far.
    pub fn api_totals(&self) -> (u64, u64, u64) {
        self.stats.totals()
    }

    /// Requests still waiting for an answer.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Answers every request still waiting (the session is ending): 503.
    pub fn cancel_waiting(&mut self, now: SimTime) {
        for (_, w) in std::mem::take(&mut self.waiting) {
            let e = ApiError {
                status: 503,
                message: "the twin stopped before the VM settled".into(),
            };
            self.answer(now, w.id, w.label, w.arrived, e.status, e.body());
        }
    }

    /// Records and sends one answer.
    pub(super) fn answer(
        &mut self,
        now: SimTime,
        id: u64,
        label: &'static str,
        arrived: SimTime,
        status: u16,
        body: String,
    ) {
        self.stats.answered(label, status, now.since(arrived));
        self.outbox.push(ApiAnswer {
            id,
            at: now,
            status,
            body,
        });
    }

    /// A new `SystemId` for an object named `name` (CB-Spider's ID transform: the name and a
    /// 20-character unique suffix).
    pub(super) fn system_id(&mut self, name: &str) -> String {
        self.created += 1;
        let mut x = self.plan.world.seed ^ self.created.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        format!("{name}-ct{x:016x}{:02x}", self.created & 0xff)
    }

    /// The connection named in the request, or Spider's not-found error.
    pub(super) fn connection(&self, req: &ApiRequest) -> Result<(String, &Connection), ApiError> {
        let name = req.connection_name()?;
        match self.connections.get(&name) {
            Some(c) => Ok((name, c)),
            None => Err(ApiError::not_exist("connection config", &name)),
        }
    }

    fn dispatch<E: TwinEvent>(
        &mut self,
        sched: &mut Scheduler<E>,
        p: &mut Peers<'_>,
        id: u64,
        route: Route,
        req: &ApiRequest,
    ) -> Result<Reply, ApiError> {
        use super::routes::Route as R;
        match route {
            R::CloudOs => Ok(Reply::ok(
                &serde_json::json!({ "cloudos": super::cim::CLOUD_OS }),
            )),
            R::CimCreate(k) => self.cim_create(sched, p, k, req),
            R::CimList(k) => self.cim_list(k),
            R::CimGet(k, n) => self.cim_get(k, &n),
            R::CimDelete(k, n) => self.cim_delete(k, &n),
            R::RegionZoneList => self.region_zones(p, req, None),
            R::RegionZoneGet(n) => self.region_zones(p, req, Some(&n)),
            R::ImageList => self.images(p, req, None),
            R::ImageGet(n) => self.images(p, req, Some(&n)),
            R::SpecList => self.specs(p, req, None),
            R::SpecGet(n) => self.specs(p, req, Some(&n)),
            R::ResourceCreate(k) => self.resource_create(k, req),
            R::ResourceList(k) => self.resource_list(k, req),
            R::ResourceGet(k, n) => self.resource_get(k, req, &n),
            R::ResourceDelete(k, n) => self.resource_delete(k, req, &n),
            R::ResourceAll(k) => self.resource_all(k, req),
            R::SubnetAdd(v) => self.subnet_add(req, &v),
            R::SubnetGet(v, n) => self.subnet_get(req, &v, &n),
            R::SubnetDelete(v, n) => self.subnet_delete(req, &v, &n),
            R::VmStart => self.vm_start(sched, p, id, req),
            R::VmList => self.vm_list(p, req),
            R::VmGet(n) => self.vm_get(p, req, &n),
            R::VmDelete(n) => self.vm_delete(sched, p, id, req, &n),
            R::VmAll => self.vm_all(req),
            R::VmStatusList => self.vm_status_list(p, req),
            R::VmStatusGet(n) => self.vm_status_get(p, req, &n),
            R::VmControl(n) => self.vm_control(sched, p, req, &n),
            R::VmCount => Ok(Reply::ok(&serde_json::json!({ "count": self.vms.len() }))),
            R::VmCountOf(c) => self.vm_count_of(&c),
            R::AdminOutage => self.admin_outage(sched, p, req),
            R::AdminProvider(n) => self.admin_provider(p, req, &n),
            R::AdminState => self.admin_state(sched.now(), p),
            R::AgentHealth(c, n) => self.agent_health(p, &c, &n),
            R::AgentMetric(c, n, m) => self.agent_metric(sched.now(), p, &c, &n, &m),
        }
    }

    fn handle_request<E: TwinEvent>(&mut self, sched: &mut Scheduler<E>, mut p: Peers<'_>) {
        let Some((id, req)) = self.inbox.pop_front() else {
            return;
        };
        let now = sched.now();
        let (label, result) = match routes::route(&req.method, &req.path) {
            Ok(m) => (m.label, self.dispatch(sched, &mut p, id, m.route, &req)),
            Err(e) => (routes::OTHER, Err(e)),
        };
        let (status, body) = match result {
            Ok(Reply::Json(status, body)) => (status, body),
            Ok(Reply::Empty) => (204, String::new()),
            Ok(Reply::Later(vm)) => {
                if let Some(w) = self.waiting.get_mut(&vm) {
                    w.label = label;
                }
                return;
            }
            Err(e) => (e.status, e.body()),
        };
        self.answer(now, id, label, now, status, body);
    }

    /// Answers the request waiting for `vm`, if any.
    fn settle(&mut self, now: SimTime, vm: u32, status: u16, body: String) {
        if let Some(w) = self.waiting.remove(&vm) {
            self.answer(now, w.id, w.label, w.arrived, status, body);
        }
    }
}

impl<E: TwinEvent> SubModel<E> for Twin {
    type Event = ApiEvent;
    type Peers<'p> = Peers<'p>;

    fn handle(&mut self, sched: &mut Scheduler<E>, ev: ApiEvent, peers: Peers<'_>) {
        match ev {
            ApiEvent::Request => self.handle_request(sched, peers),
        }
    }

    /// Blocked calls are answered as their VMs settle.
    fn notice(&mut self, sched: &mut Scheduler<E>, n: Notice, p: Peers<'_>) {
        let now = sched.now();
        match n {
            Notice::Running { vm, .. } => {
                if self.waiting.get(&vm).is_some_and(|w| !w.delete) {
                    let body = self.vm_info_json(p.lifecycle, vm);
                    self.stats.created_ok();
                    self.settle(now, vm, 200, body);
                }
            }
            Notice::Failed { vm, cause } => {
                if let Some(w) = self.waiting.get(&vm) {
                    let name = self.vms.get(&vm).map_or("", |r| r.req.name.as_str());
                    let what = if w.delete { "terminate" } else { "start" };
                    if !w.delete {
                        self.stats.create_failed();
                    }
                    let e = ApiError::internal(format!("VM '{name}' failed to {what}: {cause}"));
                    self.settle(now, vm, e.status, e.body());
                }
            }
            Notice::Deleted { vm } => {
                if let Some(r) = self.vms.remove(&vm) {
                    if let Some(c) = self.connections.get_mut(&r.connection) {
                        c.vms.remove(&r.req.name);
                    }
                    self.stats.deleted();
                }
                let body = serde_json::json!({ "Status": "Terminated" }).to_string();
                self.settle(now, vm, 200, body);
            }
            Notice::Stopped { .. } | Notice::CreateGaveUp { .. } => {}
        }
    }

    fn sample(&mut self, now: SimTime, _: Peers<'_>) {
        self.stats.sample(now);
    }
}

impl Results for Twin {
    /// The answers given after the last sample (those of the end included) get their rows.
    fn finish(&mut self, end: SimTime) {
        self.stats.sample(end);
    }

    fn summarize(&self, summary: &mut Summary, _end: SimTime) {
        self.stats.summarize(
            summary,
            self.world.clouds.len() - self.plan.world.clouds.len(),
        );
    }

    fn take_tables(&mut self) -> Vec<Table> {
        vec![self.stats.take_table()]
    }
}
