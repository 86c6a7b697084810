//! The live twin driven through the library (`twin::Session`), no sockets: CB-Spider's mock
//! flow (register the driver, credential, region and connection; VPC, security group, key
//! pair; start, list, status, control and terminate a VM), clouds joining a world that starts
//! empty, failures and outages acting on API-created VMs, Spider's error wording, and the
//! journal replaying to the same bytes.

mod common;

use cloudtwin::engine::{SimDuration, SimTime};
use cloudtwin::output::names::{file, metric};
use cloudtwin::twin::{ApiAnswer, ApiRequest, Session};
use common::{int, load_text};
use serde_json::{Value, json};

/// A world with no clouds, monitoring every 5 s.
const EMPTY: &str = r#"
[simulation]
name = "twin"
duration = "2h"
sample_interval = "10s"

[monitoring]
interval = "5s"
agent_start_delay = "5s"

[serve]
enabled = true
epoch_s = 1796256000
"#;

/// Drives a session: each call hands in a request a little after the last and runs the
/// world until it is answered (or `wait` has passed).
struct Driver {
    s: Session,
    t: SimTime,
    answers: Vec<ApiAnswer>,
    /// Every request with its arrival time: the journal.
    log: Vec<(SimTime, ApiRequest)>,
}

impl Driver {
    fn new(text: &str, sets: &[&str]) -> Self {
        Driver {
            s: Session::new(load_text(text, sets)).expect("a twin scenario"),
            t: SimTime::ZERO,
            answers: Vec::new(),
            log: Vec::new(),
        }
    }

    /// Sends a request 1 ms after the previous one; waits up to `wait` for its answer.
    fn call_wait(
        &mut self,
        method: &str,
        path: &str,
        body: Value,
        wait: SimDuration,
    ) -> (u16, Value) {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        self.t = self.t.max(self.s.frontier()) + SimDuration::from_millis(1);
        let req = ApiRequest::new(method, path, query, &body);
        let (id, at) = self.s.submit(self.t, req.clone());
        self.log.push((at, req));
        let deadline = at + wait;
        let mut step = at + SimDuration::from_millis(1);
        loop {
            self.s.advance_before(step);
            self.answers.extend(self.s.take_answers());
            if let Some(a) = self.answers.iter().find(|a| a.id == id) {
                self.t = self.t.max(a.at);
                let v = if a.body.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(&a.body).expect("answers are JSON")
                };
                return (a.status, v);
            }
            assert!(step < deadline, "{method} {path}: no answer within {wait}");
            step += SimDuration::from_secs(1);
        }
    }

    fn call(&mut self, method: &str, path: &str, body: Value) -> (u16, Value) {
        self.call_wait(method, path, body, SimDuration::from_secs(3600))
    }

    fn ok(&mut self, method: &str, path: &str, body: Value) -> Value {
        let (status, v) = self.call(method, path, body);
        assert_eq!(status, 200, "{method} {path}: {v}");
        v
    }

    /// Registers a connection the way Spider's mock test script does.
    fn register(&mut self, provider: &str, cred_kv: (&str, &str), region_kv: &str, conn: &str) {
        let p = provider.to_ascii_lowercase();
        let (driver, cred, region) = (
            format!("{conn}-d"),
            format!("{conn}-c"),
            format!("{conn}-r"),
        );
        self.ok("POST", "/spider/driver", json!({"DriverName": driver, "ProviderName": provider, "DriverLibFileName": format!("{p}-driver-v1.0.so")}));
        self.ok("POST", "/spider/credential", json!({"CredentialName": cred, "ProviderName": provider, "KeyValueInfoList": [{"Key": cred_kv.0, "Value": cred_kv.1}]}));
        self.ok("POST", "/spider/region", json!({"RegionName": region, "ProviderName": provider, "KeyValueInfoList": [{"Key": "Region", "Value": region_kv}]}));
        self.ok("POST", "/spider/connectionconfig", json!({"ConfigName": conn, "ProviderName": provider, "DriverName": driver, "CredentialName": cred, "RegionName": region}));
    }

    /// VPC, subnet, security group and key pair for VMs in `conn`.
    fn network(&mut self, conn: &str) {
        self.ok("POST", "/spider/vpc", json!({"ConnectionName": conn, "ReqInfo": {"Name": "vpc-01", "IPv4_CIDR": "192.168.0.0/16", "SubnetInfoList": [{"Name": "subnet-01", "IPv4_CIDR": "192.168.1.0/24"}]}}));
        self.ok("POST", "/spider/securitygroup", json!({"ConnectionName": conn, "ReqInfo": {"Name": "sg-01", "VPCName": "vpc-01", "SecurityRules": [{"FromPort": "22", "ToPort": "22", "IPProtocol": "TCP", "Direction": "inbound", "CIDR": "0.0.0.0/0"}]}}));
        self.ok(
            "POST",
            "/spider/keypair",
            json!({"ConnectionName": conn, "ReqInfo": {"Name": "keypair-01"}}),
        );
    }

    fn vm_body(conn: &str, name: &str, image: &str, spec: &str) -> Value {
        json!({"ConnectionName": conn, "ReqInfo": {"Name": name, "ImageName": image, "VMSpecName": spec, "VPCName": "vpc-01", "SubnetName": "subnet-01", "SecurityGroupNames": ["sg-01"], "KeyPairName": "keypair-01"}})
    }
}

#[test]
fn spider_mock_flow_on_an_empty_world() {
    let mut d = Driver::new(EMPTY, &[]);
    d.register(
        "MOCK",
        ("MockName", "mock_name00"),
        "default",
        "mock-config01",
    );
    let conns = d.ok("GET", "/spider/connectionconfig", Value::Null);
    assert_eq!(conns["connectionconfig"][0]["ConfigName"], "mock-config01");
    let cred = d.ok("GET", "/spider/credential/mock-config01-c", Value::Null);
    assert_eq!(cred["KeyValueInfoList"][0]["Value"], "Hidden for security.");
    d.network("mock-config01");
    let specs = d.ok(
        "GET",
        "/spider/vmspec?ConnectionName=mock-config01",
        Value::Null,
    );
    assert_eq!(specs["vmspec"].as_array().unwrap().len(), 4);
    let img = d.ok(
        "GET",
        "/spider/vmimage/mock-vmimage-01",
        json!({"ConnectionName": "mock-config01"}),
    );
    assert_eq!(img["OSDistribution"], "Ubuntu 18.04");

    // The mock provider is instant: POST /vm answers Running at once, with addresses.
    let vm = d.ok(
        "POST",
        "/spider/vm",
        Driver::vm_body(
            "mock-config01",
            "vm-01",
            "mock-vmimage-01",
            "mock-vmspec-01",
        ),
    );
    assert_eq!(vm["IId"]["NameId"], "vm-01");
    assert!(
        vm["IId"]["SystemId"]
            .as_str()
            .unwrap()
            .starts_with("vm-01-")
    );
    assert!(!vm["PublicIP"].as_str().unwrap().is_empty());
    assert!(vm["SSHAccessPoint"].as_str().unwrap().ends_with(":22"));
    assert!(vm["StartTime"].as_str().unwrap().starts_with("2026-12-03T"));

    // List and get, with ConnectionName in the body and in the query.
    let list = d.ok(
        "GET",
        "/spider/vm",
        json!({"ConnectionName": "mock-config01"}),
    );
    assert_eq!(list["vm"].as_array().unwrap().len(), 1);
    d.ok(
        "GET",
        "/spider/vm/vm-01?ConnectionName=mock-config01",
        Value::Null,
    );
    let st = d.ok(
        "GET",
        "/spider/vmstatus/vm-01",
        json!({"ConnectionName": "mock-config01"}),
    );
    assert_eq!(st["Status"], "Running");
    let all = d.ok(
        "GET",
        "/spider/vmstatus?ConnectionName=mock-config01",
        Value::Null,
    );
    assert_eq!(all["vmstatus"][0]["VmStatus"], "Running");

    // Control actions answer with the transitional status.
    let conn = json!({"ConnectionName": "mock-config01"});
    let s = d.ok(
        "GET",
        "/spider/controlvm/vm-01?action=suspend",
        conn.clone(),
    );
    assert_eq!(s["Status"], "Suspending");
    d.call("GET", "/spider/vmstatus/vm-01", conn.clone()); // lets the suspend complete
    assert_eq!(
        d.ok("GET", "/spider/vmstatus/vm-01", conn.clone())["Status"],
        "Suspended"
    );
    // A suspend of a suspended VM succeeds without effect; a reboot of one is refused.
    d.ok(
        "PUT",
        "/spider/controlvm/vm-01?action=suspend",
        conn.clone(),
    );
    let (code, e) = d.call("GET", "/spider/controlvm/vm-01?action=reboot", conn.clone());
    assert_eq!(code, 500);
    assert!(e["message"].as_str().unwrap().contains("SUSPENDED"), "{e}");
    d.ok("GET", "/spider/controlvm/vm-01?action=resume", conn.clone());
    d.ok("GET", "/spider/controlvm/vm-01?action=reboot", conn.clone());
    let (code, e) = d.call(
        "GET",
        "/spider/controlvm/vm-01?action=explode",
        conn.clone(),
    );
    assert_eq!(
        (code, e["message"].as_str().unwrap()),
        (500, "explode is not a valid action!!")
    );

    // Terminate: answered when Terminated; later the VM does not exist.
    let t = d.ok("DELETE", "/spider/vm/vm-01", conn.clone());
    assert_eq!(t["Status"], "Terminated");
    let (code, e) = d.call("GET", "/spider/vmstatus/vm-01", conn.clone());
    assert_eq!(code, 500);
    assert!(
        e["message"].as_str().unwrap().contains("does not exist"),
        "{e}"
    );

    // Clean-up in Spider's order.
    for path in [
        "/spider/keypair/keypair-01",
        "/spider/securitygroup/sg-01",
        "/spider/vpc/vpc-01/subnet/subnet-01",
        "/spider/vpc/vpc-01",
    ] {
        assert_eq!(
            d.ok("DELETE", path, conn.clone())["Result"],
            "true",
            "{path}"
        );
    }
    let (out, _) = d.s.finish(SimTime::from_secs(600));
    assert_eq!(int(&out, metric::API_VMS_CREATED), 1);
    assert_eq!(int(&out, metric::API_VMS_DELETED), 1);
    assert_eq!(int(&out, metric::API_CLOUDS_JOINED), 1);
    assert_eq!(int(&out, metric::CLOUDS), 1);
    let api = out
        .tables
        .iter()
        .find(|t| t.name == file::API)
        .expect("api.csv");
    assert!(
        api.rows()
            .iter()
            .any(|r| r[1] == "POST /spider/vm" && r[2] == "200")
    );
}

#[test]
fn errors_are_spiders() {
    let mut d = Driver::new(EMPTY, &[]);
    d.register("MOCK", ("MockName", "m1"), "default", "c1");
    d.network("c1");
    let conn = json!({"ConnectionName": "c1"});
    let cases: Vec<(&str, &str, Value, u16, &str)> = vec![
        (
            "GET",
            "/spider/vm",
            json!({"ConnectionName": "nope"}),
            500,
            "does not exist",
        ),
        (
            "GET",
            "/spider/vm",
            Value::Null,
            500,
            "ConnectionName is required",
        ),
        (
            "POST",
            "/spider/vm",
            json!("not an object"),
            400,
            "not valid",
        ),
        (
            "POST",
            "/spider/vm",
            Driver::vm_body("c1", "a b", "mock-vmimage-01", "mock-vmspec-01"),
            400,
            "characters",
        ),
        (
            "POST",
            "/spider/vm",
            Driver::vm_body("c1", "v1", "no-image", "mock-vmspec-01"),
            500,
            "no-image image does not exist!!",
        ),
        (
            "POST",
            "/spider/vm",
            Driver::vm_body("c1", "v1", "mock-vmimage-01", "no-spec"),
            500,
            "no-spec VMSpec does not exist!!",
        ),
        (
            "GET",
            "/spider/vmstatus/ghost",
            conn.clone(),
            500,
            "does not exist",
        ),
        ("GET", "/spider/nothing", Value::Null, 404, "Not Found"),
        (
            "PATCH",
            "/spider/vm",
            Value::Null,
            405,
            "Method Not Allowed",
        ),
        (
            "POST",
            "/spider/connectionconfig",
            json!({"ConfigName": "c2", "ProviderName": "AWS", "DriverName": "x", "CredentialName": "y", "RegionName": "z"}),
            500,
            "does not exist",
        ),
        (
            "POST",
            "/spider/driver",
            json!({"DriverName": "d9", "ProviderName": "NOCLOUD"}),
            500,
            "not one the twin knows",
        ),
    ];
    for (m, path, body, want, text) in cases {
        let (code, e) = d.call(m, path, body);
        assert_eq!(code, want, "{m} {path}: {e}");
        let msg = e["message"].as_str().unwrap_or_default();
        assert!(msg.contains(text), "{m} {path}: {msg}");
    }
    d.ok(
        "POST",
        "/spider/vm",
        Driver::vm_body("c1", "v1", "mock-vmimage-01", "mock-vmspec-01"),
    );
    let (code, e) = d.call(
        "POST",
        "/spider/vm",
        Driver::vm_body("c1", "v1", "mock-vmimage-01", "mock-vmspec-01"),
    );
    assert_eq!(
        (code, e["message"].as_str().unwrap()),
        (500, "VM 'v1' already exists in connection 'c1'")
    );
    let (code, _) = d.call("DELETE", "/spider/vpc/vpc-01", conn.clone());
    assert_eq!(code, 500, "a VPC in use cannot be deleted");
}

#[test]
fn real_regions_join_with_their_profiles_and_failures_count() {
    // AWS us-east-1 from the catalogue, 20% create failures, instant otherwise.
    let sets = [
        "lifecycle.providers.aws.create_failure_p=0.2",
        "lifecycle.providers.aws.api_delay=1s",
        "lifecycle.providers.aws.boot_time=20s",
    ];
    let mut d = Driver::new(EMPTY, &sets);
    d.register("AWS", ("ClientId", "x"), "us-east-1", "aws-use1");
    let rz = d.ok(
        "GET",
        "/spider/regionzone",
        json!({"ConnectionName": "aws-use1"}),
    );
    assert_eq!(rz["regionzone"][0]["Name"], "us-east-1");
    d.network("aws-use1");
    let (mut ok, mut failed) = (0, 0);
    for i in 0..100 {
        let (code, v) = d.call(
            "POST",
            "/spider/vm",
            Driver::vm_body("aws-use1", &format!("vm-{i}"), "ami-anything", "t2.micro"),
        );
        match code {
            200 => ok += 1,
            500 => {
                failed += 1;
                assert!(
                    v["message"].as_str().unwrap().contains("provider error"),
                    "{v}"
                );
            }
            c => panic!("status {c}: {v}"),
        }
    }
    assert_eq!(ok + failed, 100);
    assert!(
        (8..=34).contains(&failed),
        "binomial(100, 0.2) 99.9% interval: {failed}"
    );
    // A failed VM reads Failed (AWS's native "terminated" mapped by Spider: Terminated).
    let status = d.ok(
        "GET",
        "/spider/vmstatus?ConnectionName=aws-use1",
        Value::Null,
    );
    let n_failed = status["vmstatus"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["VmStatus"] == "Terminated")
        .count();
    assert_eq!(n_failed, failed);
}

#[test]
fn an_injected_outage_fails_running_vms() {
    let mut d = Driver::new(EMPTY, &[]);
    d.register("CLOUDTWIN", ("DomainName", "cloud-1"), "default", "ct1");
    d.register("CLOUDTWIN", ("DomainName", "cloud-2"), "default", "ct2");
    d.ok(
        "PUT",
        "/cloudtwin/provider/cloudtwin",
        json!({"create_failure_p": 0.0}),
    );
    for c in ["ct1", "ct2"] {
        d.network(c);
        for i in 0..3 {
            d.ok(
                "POST",
                "/spider/vm",
                Driver::vm_body(c, &format!("v{i}"), "ubuntu18.04-sshd-systemd", "spec-1"),
            );
        }
    }
    let o = d.ok(
        "POST",
        "/cloudtwin/outage",
        json!({"scope": "region", "target": "cloudtwin:cloud-1", "duration": "10m"}),
    );
    assert_eq!(o["target"], "cloudtwin:cloud-1");
    let s1 = d.ok("GET", "/spider/vmstatus?ConnectionName=ct1", Value::Null);
    let s2 = d.ok("GET", "/spider/vmstatus?ConnectionName=ct2", Value::Null);
    assert!(
        s1["vmstatus"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["VmStatus"] == "Failed"),
        "{s1}"
    );
    assert!(
        s2["vmstatus"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["VmStatus"] == "Running"),
        "{s2}"
    );
    let state = d.ok("GET", "/cloudtwin/state", Value::Null);
    assert_eq!(state["clouds"].as_array().unwrap().len(), 2);
    assert_eq!(state["outages"][0]["active"], true);
    let (code, e) = d.call(
        "POST",
        "/cloudtwin/outage",
        json!({"scope": "region", "target": "cloudtwin:nowhere", "duration": "1m"}),
    );
    assert_eq!(code, 400, "{e}");
}

/// The same requests at the same times give the same results, whatever steps the run took.
#[test]
fn a_journal_replays_to_the_same_bytes() {
    let mut d = Driver::new(EMPTY, &["monitoring.interval=2s"]);
    d.register("CLOUDTWIN", ("DomainName", "cloud-1"), "default", "ct1");
    d.register("MOCK", ("MockName", "m"), "default", "m1");
    d.network("ct1");
    for i in 0..20 {
        d.call(
            "POST",
            "/spider/vm",
            Driver::vm_body(
                "ct1",
                &format!("v{i}"),
                "ubuntu18.04-sshd-systemd",
                "spec-1",
            ),
        );
    }
    d.call(
        "GET",
        "/cloudtwin/agent/ct1/v0/cb-dragonfly/metric/cpu",
        Value::Null,
    );
    d.call(
        "GET",
        "/spider/controlvm/v1?action=suspend",
        json!({"ConnectionName": "ct1"}),
    );
    d.call(
        "POST",
        "/cloudtwin/outage",
        json!({"scope": "provider", "target": "cloudtwin", "duration": "2m", "effect": "stall"}),
    );
    let end = d.t + SimDuration::from_secs(300);
    let (live, live_answers) = d.s.finish(end);

    // Replay: every request at its recorded time, in one pass (no steps in between).
    let mut s = Session::new(load_text(EMPTY, &["monitoring.interval=2s"])).unwrap();
    for (at, req) in &d.log {
        let (_, got) = s.submit(*at, req.clone());
        assert_eq!(got, *at);
    }
    let (replay, replay_answers) = s.finish(end);
    assert_eq!(live.summary.to_csv(), replay.summary.to_csv());
    assert_eq!(live.tables.len(), replay.tables.len());
    for (a, b) in live.tables.iter().zip(&replay.tables) {
        assert!(a.to_csv() == b.to_csv(), "{} differs", a.name);
    }
    let mut all_live: Vec<(u64, u16)> = d
        .answers
        .iter()
        .chain(&live_answers)
        .map(|a| (a.id, a.status))
        .collect();
    let mut all_replay: Vec<(u64, u16)> = replay_answers.iter().map(|a| (a.id, a.status)).collect();
    all_live.sort_unstable();
    all_replay.sort_unstable();
    // Every request was answered once, with the same status in both runs.
    assert_eq!(all_live.len(), d.log.len());
    assert_eq!(all_live, all_replay);
}
