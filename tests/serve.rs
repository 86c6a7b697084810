//! `cloudtwin serve` driven over real sockets, as CB-Spider's clients drive Spider: the binary
//! started on a free loopback port, requests sent with curl (as Spider's REST test scripts do),
//! with ureq (as CB-Tumblebug does, GET with a JSON body included) or byte by byte over TCP,
//! stopped with SIGINT, and its results folder replayed with `cloudtwin replay`.
//!
//! - CB-Spider's mock test scripts in curl (register, VPC and subnets, security group, key
//!   pair, VM start / list / get / status / suspend / resume / reboot / terminate, clean-up);
//! - ten CLOUDTWIN clouds registered the way CB-Tumblebug does, one VM on each;
//! - 200 parallel creates with p = 0.2 failures (binomial interval, Failed statuses);
//! - an outage through `POST /cloudtwin/outage`, CB-Dragonfly's pull API;
//! - SIGINT (and SIGTERM) write the results folder, `replay` gives the same CSV bytes, and
//!   refuses a folder without a (complete) journal;
//! - Basic auth (flag and Spider's environment variables), body limit, Spider's errors, odd
//!   names; a blocking create (Creating, forced away) and Spider v0.5's immediate answer;
//! - 2,000 random and malformed requests from a fixed seed, then the twin's consistency and
//!   replay; `/metrics` (behind the credentials too); the CLI's refusals;
//! - a stop while a create blocks (503, then the results), and `api.csv` counting every
//!   answer, those after the last sample included.
//!
//! Every wait is bounded by a generous wall-clock timeout and nothing asserts on wall-clock
//! speed: a loaded 2-core CI machine only makes these tests slower.

mod common;

use base64::Engine as _;
use cloudtwin::output::names::{file, metric};
use common::{binary_path, cloudtwin, files, output_of};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long the server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long it may take to write its results and exit after SIGINT.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one HTTP request may take (a blocking `POST /vm` included).
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a VM may take to reach a status (simulated minutes at the speeds used here).
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// CB-Spider's VM statuses (`VMHandler.go:73-94`).
const SPIDER_STATUSES: [&str; 10] = [
    "Creating",
    "Running",
    "Suspending",
    "Suspended",
    "Resuming",
    "Rebooting",
    "Terminating",
    "Terminated",
    "NotExist",
    "Failed",
];

// ------------------------------------------------------------------------------------------
// The server
// ------------------------------------------------------------------------------------------

/// How to start `cloudtwin serve` (no scenario: the world starts empty).
struct Serve {
    args: Vec<String>,
    envs: Vec<(String, String)>,
    auth: Option<String>,
}

impl Serve {
    fn new(speed: f64) -> Self {
        Serve {
            args: vec!["--speed".into(), speed.to_string()],
            envs: Vec::new(),
            auth: None,
        }
    }

    /// `--set key=value`.
    fn set(mut self, kv: &str) -> Self {
        self.args.push("--set".into());
        self.args.push(kv.into());
        self
    }

    /// `--auth user:pass`; the server's client sends these credentials.
    fn auth(mut self, user: &str, pass: &str) -> Self {
        self.args.push("--auth".into());
        self.args.push(format!("{user}:{pass}"));
        self.auth = Some(basic(user, pass));
        self
    }

    fn env(mut self, k: &str, v: &str) -> Self {
        self.envs.push((k.into(), v.into()));
        self
    }

    /// Starts the server with its results folder `dir/out`; returns once it listens.
    fn start(self, dir: &Path) -> Server {
        let out = dir.join("out");
        let stderr_path = dir.join("serve-stderr.txt");
        let stderr = File::create(&stderr_path).expect("stderr file");
        let mut cmd = Command::new(binary_path());
        cmd.arg("serve")
            .args(["--listen", "127.0.0.1:0", "--out"])
            .arg(&out)
            .args(["--set", "output.report=false"])
            .args(&self.args)
            .env_remove("SPIDER_USERNAME")
            .env_remove("SPIDER_PASSWORD")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr));
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("cloudtwin serve starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        let reader = thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut first = String::new();
            let _ = r.read_line(&mut first);
            let _ = tx.send(first);
            let mut rest = String::new();
            let _ = r.read_to_string(&mut rest);
            rest
        });
        // From here on the guard kills the child if anything fails.
        let mut server = Server {
            child: Some(child),
            addr: String::new(),
            out,
            stderr_path,
            stdout: Some(reader),
            auth: self.auth,
        };
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(l) => l,
            Err(_) => panic!(
                "cloudtwin serve printed no address within {START_TIMEOUT:?}; stderr:\n{}",
                server.stderr()
            ),
        };
        let Some(addr) = line.trim().strip_prefix("listening on http://") else {
            panic!(
                "cloudtwin serve's first line is {line:?}, not its address; stderr:\n{}",
                server.stderr()
            );
        };
        server.addr = addr.to_string();
        server
    }
}

/// A running `cloudtwin serve`; killed when dropped (a failed test leaves no process behind).
struct Server {
    child: Option<Child>,
    addr: String,
    out: PathBuf,
    stderr_path: PathBuf,
    stdout: Option<JoinHandle<String>>,
    /// The `Authorization` header its client sends.
    auth: Option<String>,
}

impl Server {
    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// A client with the server's credentials (if any).
    fn client(&self) -> Client {
        Client::new(&self.addr, self.auth.clone())
    }

    /// A client without credentials.
    fn anonymous(&self) -> Client {
        Client::new(&self.addr, None)
    }

    /// Sends `signal` (e.g. `-INT`) with kill(1) and waits up to `timeout` for the exit.
    fn signal_and_wait(&mut self, signal: &str, timeout: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut().expect("the server runs");
        let pid = child.id().to_string();
        let sent = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill(1) runs");
        assert!(sent.success(), "kill {signal} {pid} failed");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().expect("waitpid") {
                self.child = None;
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGINT; asserts the server exits 0 within `timeout` and wrote its results folder.
    /// Returns the folder and the server's stdout after its address.
    fn stop_within(self, timeout: Duration) -> (PathBuf, String) {
        self.stop_with("-INT", timeout)
    }

    /// Like [`Server::stop_within`] with another signal (`-TERM`).
    fn stop_with(mut self, signal: &str, timeout: Duration) -> (PathBuf, String) {
        let Some(status) = self.signal_and_wait(signal, timeout) else {
            panic!(
                "cloudtwin serve did not exit within {timeout:?} of kill {signal}; stderr:\n{}",
                self.stderr()
            );
        };
        assert!(
            status.success(),
            "cloudtwin serve exited with {status} after kill {signal}; stderr:\n{}",
            self.stderr()
        );
        let rest = self
            .stdout
            .take()
            .map(|h| h.join().expect("stdout reader"))
            .unwrap_or_default();
        assert!(
            rest.contains("results: "),
            "stdout after the address: {rest}"
        );
        for f in [
            file::MANIFEST,
            file::SCENARIO,
            file::SUMMARY,
            file::API,
            file::API_JOURNAL,
        ] {
            assert!(
                self.out.join(f).is_file(),
                "the results folder has no {f}: {:?}",
                common::entries(&self.out)
            );
        }
        (self.out.clone(), rest)
    }

    fn stop(self) -> PathBuf {
        self.stop_within(STOP_TIMEOUT).0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

// ------------------------------------------------------------------------------------------
// HTTP clients
// ------------------------------------------------------------------------------------------

/// An answer: status, `WWW-Authenticate`, `Content-Type` and body text.
struct Answer {
    status: u16,
    www_authenticate: Option<String>,
    content_type: Option<String>,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        parse_json(&self.text)
    }
}

/// JSON text as a value; an empty body is `null`, text that is not JSON a JSON string.
fn parse_json(text: &str) -> Value {
    if text.trim().is_empty() {
        return Value::Null;
    }
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// A ureq client as CB-Tumblebug's: JSON bodies on every method, GET included.
#[derive(Clone)]
struct Client {
    base: String,
    agent: ureq::Agent,
    auth: Option<String>,
}

impl Client {
    fn new(addr: &str, auth: Option<String>) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .allow_non_standard_methods(true)
            .timeout_global(Some(HTTP_TIMEOUT))
            .build()
            .into();
        Client {
            base: format!("http://{addr}"),
            agent,
            auth,
        }
    }

    /// `method path` (with its query) with `headers` and `body`.
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        let mut b = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(a) = &self.auth {
            b = b.header("Authorization", a.as_str());
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let result = if body.is_empty() {
            self.agent.run(b.body(()).expect("a valid request"))
        } else {
            self.agent
                .run(b.body(body.to_vec()).expect("a valid request"))
        };
        let mut resp = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (www_authenticate, content_type) = (header("www-authenticate"), header("content-type"));
        let text = resp
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| panic!("{method} {path}: the body cannot be read: {e}"));
        Answer {
            status: resp.status().as_u16(),
            www_authenticate,
            content_type,
            text,
        }
    }

    /// A JSON call; a `null` body sends none.
    fn call(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let text = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let a = self.send(
            method,
            path,
            &[("Content-Type", "application/json")],
            text.as_bytes(),
        );
        (a.status, a.json())
    }

    /// A call that must answer 200.
    fn ok(&self, method: &str, path: &str, body: &Value) -> Value {
        let (status, v) = self.call(method, path, body);
        assert_eq!(status, 200, "{method} {path} {body}: {v}");
        v
    }

    /// A call that must fail with `status` and a message containing `text`.
    fn fails(&self, method: &str, path: &str, body: &Value, status: u16, text: &str) {
        let (got, v) = self.call(method, path, body);
        assert_eq!(got, status, "{method} {path} {body}: {v}");
        let msg = v["message"].as_str().unwrap_or_default();
        assert!(
            msg.contains(text),
            "{method} {path}: message {msg:?} lacks {text:?}"
        );
    }

    fn state(&self) -> Value {
        self.ok("GET", "/cloudtwin/state", &Value::Null)
    }

    /// Polls `GET /vmstatus/{name}` until it reads `want`.
    fn wait_status(&self, conn: &str, name: &str, want: &str) {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        loop {
            let (code, v) = self.call(
                "GET",
                &format!("/spider/vmstatus/{name}"),
                &json!({"ConnectionName": conn}),
            );
            if code == 200 && v["Status"] == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "VM {name} of {conn} did not read {want} within {SETTLE_TIMEOUT:?}: {code} {v}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// `GET /vmstatus` of a connection: name -> status.
    fn statuses(&self, conn: &str) -> BTreeMap<String, String> {
        let v = self.ok(
            "GET",
            &format!("/spider/vmstatus?ConnectionName={conn}"),
            &Value::Null,
        );
        v["vmstatus"]
            .as_array()
            .unwrap_or_else(|| panic!("vmstatus of {conn}: {v}"))
            .iter()
            .map(|s| {
                (
                    s["IId"]["NameId"].as_str().expect("NameId").to_string(),
                    s["VmStatus"].as_str().expect("VmStatus").to_string(),
                )
            })
            .collect()
    }

    /// Registers driver, credential, region and connection `conn` (names as Spider's mock
    /// test script, `<conn>-d` etc.).
    fn register(&self, provider: &str, cred: (&str, &str), region: &str, conn: &str) {
        let p = provider.to_ascii_lowercase();
        let (d, c, r) = (
            format!("{conn}-d"),
            format!("{conn}-c"),
            format!("{conn}-r"),
        );
        self.ok("POST", "/spider/driver", &json!({"DriverName": d, "ProviderName": provider, "DriverLibFileName": format!("{p}-driver-v1.0.so")}));
        self.ok("POST", "/spider/credential", &json!({"CredentialName": c, "ProviderName": provider, "KeyValueInfoList": [{"Key": cred.0, "Value": cred.1}]}));
        self.ok("POST", "/spider/region", &json!({"RegionName": r, "ProviderName": provider, "KeyValueInfoList": [{"Key": "Region", "Value": region}]}));
        self.ok("POST", "/spider/connectionconfig", &json!({"ConfigName": conn, "ProviderName": provider, "DriverName": d, "CredentialName": c, "RegionName": r}));
    }

    /// VPC `vpc-01` with `subnet-01`, security group `sg-01` and key pair `keypair-01`.
    fn network(&self, conn: &str) {
        self.ok("POST", "/spider/vpc", &json!({"ConnectionName": conn, "ReqInfo": {"Name": "vpc-01", "IPv4_CIDR": "192.168.0.0/16", "SubnetInfoList": [{"Name": "subnet-01", "IPv4_CIDR": "192.168.1.0/24"}]}}));
        self.ok("POST", "/spider/securitygroup", &json!({"ConnectionName": conn, "ReqInfo": {"Name": "sg-01", "VPCName": "vpc-01", "SecurityRules": [{"FromPort": "22", "ToPort": "22", "IPProtocol": "TCP", "Direction": "inbound", "CIDR": "0.0.0.0/0"}]}}));
        self.ok(
            "POST",
            "/spider/keypair",
            &json!({"ConnectionName": conn, "ReqInfo": {"Name": "keypair-01"}}),
        );
    }
}

/// `VMStartRequest` on the network of [`Client::network`].
fn vm_body(conn: &str, name: &str, image: &str, spec: &str) -> Value {
    json!({"ConnectionName": conn, "ReqInfo": {"Name": name, "ImageName": image, "VMSpecName": spec, "VPCName": "vpc-01", "SubnetName": "subnet-01", "SecurityGroupNames": ["sg-01"], "KeyPairName": "keypair-01", "VMUserId": "", "VMUserPasswd": ""}})
}

fn mock_vm(conn: &str, name: &str) -> Value {
    vm_body(conn, name, "mock-vmimage-01", "mock-vmspec-01")
}

fn cloudtwin_vm(conn: &str, name: &str) -> Value {
    vm_body(conn, name, "ubuntu18.04-sshd-systemd", "spec-1")
}

/// A server whose CLOUDTWIN cloud takes a simulated hour per API call (6 wall minutes at 10x)
/// and a `POST /vm` of `vm-01` there, waiting in a thread: the server, a client and the call.
fn blocked_create(dir: &Path) -> (Server, Client, JoinHandle<(u16, Value)>) {
    let server = Serve::new(10.0)
        .set("lifecycle.providers.cloudtwin.create_failure_p=0")
        .set("lifecycle.providers.cloudtwin.api_delay=1h")
        .start(dir);
    let c = server.client();
    cloudtwin_conn(&c, "cloud-1", "ct1");
    let blocked = {
        let c = c.clone();
        thread::spawn(move || c.call("POST", "/spider/vm", &cloudtwin_vm("ct1", "vm-01")))
    };
    (server, c, blocked)
}

/// A CLOUDTWIN connection `conn` to cloud `domain` with its network.
fn cloudtwin_conn(c: &Client, domain: &str, conn: &str) {
    c.register("CLOUDTWIN", ("DomainName", domain), "default", conn);
    c.network(conn);
}

/// Checks a VMInfo of a created VM: Spider's fields, addresses set.
fn check_vm_info(v: &Value, name: &str) {
    assert_eq!(v["IId"]["NameId"], name, "{v}");
    assert!(
        v["IId"]["SystemId"]
            .as_str()
            .is_some_and(|s| s.starts_with(&format!("{name}-"))),
        "{v}"
    );
    for f in ["PublicIP", "PrivateIP", "SSHAccessPoint", "StartTime"] {
        assert!(
            v[f].as_str().is_some_and(|s| !s.is_empty()),
            "{name}: {f} is empty: {v}"
        );
    }
    assert!(
        v["SSHAccessPoint"].as_str().unwrap().ends_with(":22"),
        "{v}"
    );
}

// ------------------------------------------------------------------------------------------
// Raw HTTP (bytes as given, for malformed requests and over-long bodies)
// ------------------------------------------------------------------------------------------

/// One request over a fresh connection, written exactly as given (`head` is the request line
/// and headers without the blank line; `Content-Length` and `Connection: close` are added).
/// Returns the status and body of the answer, or `None` when the server closed without one
/// (or when `read` is false: the client goes away without reading).
fn raw_http(addr: &str, head: &[u8], body: &[u8], read: bool) -> Option<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(addr).expect("the server accepts connections");
    s.set_read_timeout(Some(HTTP_TIMEOUT)).expect("timeout");
    s.set_write_timeout(Some(HTTP_TIMEOUT)).expect("timeout");
    let mut req = head.to_vec();
    req.extend_from_slice(
        format!(
            "\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    req.extend_from_slice(body);
    // A large body is written on its own thread: the server may answer (413) and close
    // before it has read all of it.
    let writer = if req.len() > 64 * 1024 {
        let mut w = s.try_clone().expect("clone the stream");
        Some(thread::spawn(move || {
            let _ = w.write_all(&req);
        }))
    } else {
        let _ = s.write_all(&req);
        None
    };
    if !read {
        drop(s);
        if let Some(w) = writer {
            let _ = w.join();
        }
        return None;
    }
    let mut buf = Vec::new();
    // Bytes read before an error (a reset after the answer) are kept.
    let _ = s.read_to_end(&mut buf);
    if let Some(w) = writer {
        let _ = w.join();
    }
    let status = buf
        .strip_prefix(b"HTTP/1.1 ")
        .and_then(|r| std::str::from_utf8(r.get(..3)?).ok()?.parse().ok())?;
    let body = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| buf[i + 4..].to_vec())
        .unwrap_or_default();
    Some((status, body))
}

// ------------------------------------------------------------------------------------------
// Results folders
// ------------------------------------------------------------------------------------------

/// The journal's lines; checks its shape: `start` first, `end` last, every request answered
/// exactly once and every answer to a request. Returns request id -> (request, status).
fn check_journal(dir: &Path) -> BTreeMap<u64, (Value, u16)> {
    let text = std::fs::read_to_string(dir.join(file::API_JOURNAL)).expect("the journal");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("journal line {l}: {e}")))
        .collect();
    assert_eq!(lines.first().map(|l| &l["kind"]), Some(&json!("start")));
    assert_eq!(lines.last().map(|l| &l["kind"]), Some(&json!("end")));
    let mut requests: BTreeMap<u64, Value> = BTreeMap::new();
    let mut answers: BTreeMap<u64, u16> = BTreeMap::new();
    for l in &lines[1..lines.len() - 1] {
        let id = l["id"].as_u64().expect("an id");
        match l["kind"].as_str() {
            Some("request") => {
                assert!(
                    requests.insert(id, l.clone()).is_none(),
                    "request {id} twice"
                )
            }
            Some("answer") => {
                assert!(requests.contains_key(&id), "answer {id} before its request");
                let status = l["status"].as_u64().expect("a status") as u16;
                assert!(
                    answers.insert(id, status).is_none(),
                    "request {id} answered twice"
                );
            }
            other => panic!("journal line of kind {other:?}: {l}"),
        }
    }
    let unanswered: Vec<&u64> = requests
        .keys()
        .filter(|id| !answers.contains_key(id))
        .collect();
    assert!(
        unanswered.is_empty(),
        "requests never answered: {unanswered:?}"
    );
    requests
        .into_iter()
        .map(|(id, r)| (id, (r, answers[&id])))
        .collect()
}

/// `summary.csv` as metric -> value.
fn summary(dir: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(dir.join(file::SUMMARY)).expect("summary.csv");
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn summary_int(s: &BTreeMap<String, String>, m: &str) -> u64 {
    s.get(m)
        .unwrap_or_else(|| panic!("summary has no {m}"))
        .parse()
        .unwrap_or_else(|e| panic!("summary {m}: {e}"))
}

/// `cloudtwin replay dir --out out`: exit code, stdout, stderr.
fn replay(dir: &Path, out: &Path) -> (i32, String, String) {
    output_of(cloudtwin().arg("replay").arg(dir).arg("--out").arg(out))
}

/// Asserts two results folders hold the same CSV files with the same bytes.
fn assert_same_csvs(a: &Path, b: &Path) {
    let csvs = |d: &Path| -> BTreeMap<String, Vec<u8>> {
        files(d)
            .into_iter()
            .filter(|(n, _)| n.ends_with(".csv"))
            .collect()
    };
    let (ca, cb) = (csvs(a), csvs(b));
    for must in [file::SUMMARY, file::API] {
        assert!(ca.contains_key(must), "{} has no {must}", a.display());
    }
    assert_eq!(
        ca.keys().collect::<Vec<_>>(),
        cb.keys().collect::<Vec<_>>(),
        "the folders hold different CSV files"
    );
    for (name, bytes) in &ca {
        if bytes != &cb[name] {
            let (ta, tb) = (
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(&cb[name]),
            );
            let line = ta
                .lines()
                .zip(tb.lines())
                .enumerate()
                .find(|(_, (x, y))| x != y);
            panic!(
                "{name} differs ({} vs {} bytes); first differing line: {line:?}",
                bytes.len(),
                cb[name].len()
            );
        }
    }
}

/// Replays `dir` into a sibling folder and asserts every CSV is the same.
fn assert_replays(dir: &Path) {
    let again = dir.with_file_name("replayed");
    let (code, stdout, stderr) = replay(dir, &again);
    assert_eq!(code, 0, "replay failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("answers agree"), "{stdout}");
    assert_same_csvs(dir, &again);
}

/// The central interval of Binomial(n, p) holding at least `level` of its mass: P(X < lo)
/// and P(X > hi) are each at most (1 - level) / 2.
fn binomial_interval(n: usize, p: f64, level: f64) -> (usize, usize) {
    let tail = (1.0 - level) / 2.0;
    let mut pmf = vec![0.0f64; n + 1];
    pmf[0] = (1.0 - p).powi(n as i32);
    for k in 1..=n {
        pmf[k] = pmf[k - 1] * (n - k + 1) as f64 / k as f64 * p / (1.0 - p);
    }
    let mut acc = 0.0;
    let mut lo = 0;
    while acc + pmf[lo] <= tail {
        acc += pmf[lo];
        lo += 1;
    }
    let mut acc = 0.0;
    let mut hi = n;
    while acc + pmf[hi] <= tail {
        acc += pmf[hi];
        hi -= 1;
    }
    (lo, hi)
}

// ------------------------------------------------------------------------------------------
// 1. CB-Spider's mock test script, with curl
// ------------------------------------------------------------------------------------------

fn have_curl() -> bool {
    Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `curl -sX METHOD http://ADDR/PATH -H 'Content-Type: application/json' [-d BODY]`.
fn curl(addr: &str, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let mut c = Command::new("curl");
    c.args(["-sS", "-m", "60", "-X", method])
        .arg(format!("http://{addr}{path}"))
        .args([
            "-H",
            "Content-Type: application/json",
            "-w",
            "\n%{http_code}",
        ]);
    if let Some(b) = body {
        c.args(["-d", b]);
    }
    let o = c.output().expect("curl runs");
    assert!(
        o.status.success(),
        "curl -X {method} {path}: exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&o.stdout);
    let (body, code) = text.rsplit_once('\n').expect("the status line of -w");
    (
        code.trim().parse().expect("an HTTP status"),
        parse_json(body),
    )
}

fn curl_ok(addr: &str, method: &str, path: &str, body: Option<&str>) -> Value {
    let (code, v) = curl(addr, method, path, body);
    assert_eq!(code, 200, "curl -X {method} {path}: {v}");
    v
}

fn curl_wait_status(addr: &str, body: &str, want: &str) {
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    loop {
        let (code, v) = curl(addr, "GET", "/spider/vmstatus/vm-01", Some(body));
        if code == 200 && v["Status"] == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "vm-01 did not read {want}: {code} {v}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// Spider's `9.mock-conn-config.sh`, `mock-full_test.sh` and `9.mock-delete.sh` in curl.
#[test]
fn spider_mock_test_script_with_curl() {
    if !have_curl() {
        eprintln!("\n*** SKIPPED spider_mock_test_script_with_curl: curl is not installed ***\n");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let server = Serve::new(100.0).start(tmp.path());
    let a = server.addr.clone();
    let a = a.as_str();
    let conn = r#"{"ConnectionName":"mock-config01"}"#;

    // Connection config (9.mock-conn-config.sh).
    let d = curl_ok(
        a,
        "POST",
        "/spider/driver",
        Some(
            r#"{"DriverName":"mock-driver01","ProviderName":"MOCK","DriverLibFileName":"mock-driver-v1.0.so"}"#,
        ),
    );
    assert_eq!(d["DriverName"], "mock-driver01");
    let c = curl_ok(
        a,
        "POST",
        "/spider/credential",
        Some(
            r#"{"CredentialName":"mock-credential01","ProviderName":"MOCK","KeyValueInfoList":[{"Key":"MockName","Value":"mock_name00"}]}"#,
        ),
    );
    assert_eq!(c["KeyValueInfoList"][0]["Value"], "Hidden for security.");
    curl_ok(
        a,
        "POST",
        "/spider/region",
        Some(
            r#"{"RegionName":"mock-region01","ProviderName":"MOCK","KeyValueInfoList":[{"Key":"Region","Value":"default"}]}"#,
        ),
    );
    let cc = curl_ok(
        a,
        "POST",
        "/spider/connectionconfig",
        Some(
            r#"{"ConfigName":"mock-config01","ProviderName":"MOCK","DriverName":"mock-driver01","CredentialName":"mock-credential01","RegionName":"mock-region01"}"#,
        ),
    );
    assert_eq!(cc["ConfigName"], "mock-config01");
    let cc = curl_ok(a, "GET", "/spider/connectionconfig/mock-config01", None);
    assert_eq!(cc["ProviderName"], "MOCK");

    // VPC with a subnet, a second subnet, security group, key pair (mock-full_test.sh).
    let vpc = curl_ok(
        a,
        "POST",
        "/spider/vpc",
        Some(
            r#"{"ConnectionName":"mock-config01","ReqInfo":{"Name":"vpc-01","IPv4_CIDR":"192.168.0.0/16","SubnetInfoList":[{"Name":"subnet-01","IPv4_CIDR":"192.168.1.0/24"}]}}"#,
        ),
    );
    assert_eq!(vpc["IId"]["NameId"], "vpc-01");
    assert!(
        vpc["IId"]["SystemId"]
            .as_str()
            .unwrap()
            .starts_with("vpc-01-")
    );
    assert_eq!(vpc["SubnetInfoList"][0]["IId"]["NameId"], "subnet-01");
    let vpc = curl_ok(
        a,
        "POST",
        "/spider/vpc/vpc-01/subnet",
        Some(
            r#"{"ConnectionName":"mock-config01","ReqInfo":{"Name":"subnet-02","IPv4_CIDR":"192.168.2.0/24"}}"#,
        ),
    );
    assert_eq!(vpc["SubnetInfoList"].as_array().unwrap().len(), 2, "{vpc}");
    let vpc = curl_ok(a, "GET", "/spider/vpc/vpc-01", Some(conn));
    assert_eq!(vpc["SubnetInfoList"][1]["IId"]["NameId"], "subnet-02");
    let sub = curl_ok(a, "GET", "/spider/vpc/vpc-01/subnet/subnet-02", Some(conn));
    assert_eq!(sub["IPv4_CIDR"], "192.168.2.0/24");
    let sg = curl_ok(
        a,
        "POST",
        "/spider/securitygroup",
        Some(
            r#"{"ConnectionName":"mock-config01","ReqInfo":{"Name":"sg-01","VPCName":"vpc-01","SecurityRules":[{"FromPort":"1","ToPort":"65535","IPProtocol":"tcp","Direction":"inbound","CIDR":"0.0.0.0/0"}]}}"#,
        ),
    );
    assert_eq!(sg["IId"]["NameId"], "sg-01");
    assert_eq!(sg["VpcIID"]["NameId"], "vpc-01");
    assert_eq!(sg["SecurityRules"][0]["ToPort"], "65535");
    let kp = curl_ok(
        a,
        "POST",
        "/spider/keypair",
        Some(r#"{"ConnectionName":"mock-config01","ReqInfo":{"Name":"keypair-01"}}"#),
    );
    assert_eq!(kp["IId"]["NameId"], "keypair-01");
    assert!(!kp["PrivateKey"].as_str().unwrap().is_empty(), "{kp}");
    let kp = curl_ok(a, "GET", "/spider/keypair/keypair-01", Some(conn));
    assert_eq!(
        kp["PrivateKey"], "",
        "the private key is returned at creation only"
    );
    // CB-Tumblebug's lookups before a create.
    curl_ok(a, "GET", "/spider/vmimage/mock-vmimage-01", Some(conn));
    curl_ok(a, "GET", "/spider/vmspec/mock-vmspec-01", Some(conn));

    // Start a VM: Running at once on the mock driver, with addresses.
    let vm = curl_ok(
        a,
        "POST",
        "/spider/vm",
        Some(
            r#"{"ConnectionName":"mock-config01","ReqInfo":{"Name":"vm-01","ImageName":"mock-vmimage-01","VMSpecName":"mock-vmspec-01","VPCName":"vpc-01","SubnetName":"subnet-01","SecurityGroupNames":["sg-01"],"VMUserId":"","VMUserPasswd":"","KeyPairName":"keypair-01"}}"#,
        ),
    );
    check_vm_info(&vm, "vm-01");
    assert_eq!(vm["VMSpecName"], "mock-vmspec-01");
    assert_eq!(vm["VpcIID"]["NameId"], "vpc-01");
    assert_eq!(vm["SubnetIID"]["NameId"], "subnet-01");
    assert_eq!(vm["SecurityGroupIIds"][0]["NameId"], "sg-01");
    assert_eq!(vm["KeyPairIId"]["NameId"], "keypair-01");

    // List and get, ConnectionName in the body (GET with a body) and in the query.
    for (path, body) in [
        ("/spider/vm", Some(conn)),
        ("/spider/vm?ConnectionName=mock-config01", None),
    ] {
        let l = curl_ok(a, "GET", path, body);
        assert_eq!(l["vm"].as_array().unwrap().len(), 1, "{l}");
        assert_eq!(l["vm"][0]["IId"]["NameId"], "vm-01");
    }
    for (path, body) in [
        ("/spider/vm/vm-01", Some(conn)),
        ("/spider/vm/vm-01?ConnectionName=mock-config01", None),
    ] {
        assert_eq!(curl_ok(a, "GET", path, body)["IId"]["NameId"], "vm-01");
    }
    for (path, body) in [
        ("/spider/vmstatus", Some(conn)),
        ("/spider/vmstatus?ConnectionName=mock-config01", None),
    ] {
        let l = curl_ok(a, "GET", path, body);
        assert_eq!(l["vmstatus"][0]["IId"]["NameId"], "vm-01", "{l}");
        assert_eq!(l["vmstatus"][0]["VmStatus"], "Running", "{l}");
    }
    assert_eq!(
        curl_ok(a, "GET", "/spider/vmstatus/vm-01", Some(conn)),
        json!({"Status": "Running"})
    );

    // Suspend, resume, reboot: GET with a body (CB-Tumblebug) and PUT with the query.
    let s = curl_ok(
        a,
        "GET",
        "/spider/controlvm/vm-01?action=suspend",
        Some(conn),
    );
    assert_eq!(s, json!({"Status": "Suspending"}));
    curl_wait_status(a, conn, "Suspended");
    let s = curl_ok(
        a,
        "PUT",
        "/spider/controlvm/vm-01?action=resume&ConnectionName=mock-config01",
        None,
    );
    assert_eq!(s, json!({"Status": "Resuming"}));
    curl_wait_status(a, conn, "Running");
    let s = curl_ok(
        a,
        "PUT",
        "/spider/controlvm/vm-01?action=reboot",
        Some(conn),
    );
    assert_eq!(s, json!({"Status": "Rebooting"}));
    curl_wait_status(a, conn, "Running");
    let (code, e) = curl(
        a,
        "GET",
        "/spider/controlvm/vm-01?action=explode",
        Some(conn),
    );
    assert_eq!(
        (code, &e["message"]),
        (500, &json!("explode is not a valid action!!"))
    );

    // Terminate (answered once the VM is gone), then it does not exist.
    let t = curl_ok(a, "DELETE", "/spider/vm/vm-01", Some(conn));
    assert!(
        t["Status"] == "Terminated" || t["Status"] == "Terminating",
        "{t}"
    );
    let l = curl_ok(a, "GET", "/spider/vmstatus", Some(conn));
    assert_eq!(l, json!({"vmstatus": []}));
    let (code, e) = curl(a, "GET", "/spider/vmstatus/vm-01", Some(conn));
    assert_eq!(code, 500, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("does not exist"),
        "{e}"
    );

    // Clean-up (9.mock-delete.sh): resources, then the connection config and its parts.
    for path in [
        "/spider/keypair/keypair-01",
        "/spider/securitygroup/sg-01",
        "/spider/vpc/vpc-01/subnet/subnet-02",
        "/spider/vpc/vpc-01",
    ] {
        assert_eq!(
            curl_ok(a, "DELETE", path, Some(conn)),
            json!({"Result": "true"}),
            "{path}"
        );
    }
    assert_eq!(
        curl_ok(a, "GET", "/spider/vpc", Some(conn)),
        json!({"vpc": []})
    );
    for path in [
        "/spider/connectionconfig/mock-config01",
        "/spider/region/mock-region01",
        "/spider/credential/mock-credential01",
        "/spider/driver/mock-driver01",
    ] {
        assert_eq!(
            curl_ok(a, "DELETE", path, None),
            json!({"Result": "true"}),
            "{path}"
        );
    }
    assert_eq!(
        curl_ok(a, "GET", "/spider/connectionconfig", None),
        json!({"connectionconfig": []})
    );

    let out = server.stop();
    let s = summary(&out);
    assert_eq!(summary_int(&s, metric::API_VMS_CREATED), 1);
    assert_eq!(summary_int(&s, metric::API_VMS_DELETED), 1);
    assert_eq!(summary_int(&s, metric::API_CLOUDS_JOINED), 1);
    let journal = check_journal(&out);
    assert_eq!(summary_int(&s, metric::API_REQUESTS), journal.len() as u64);
}

// ------------------------------------------------------------------------------------------
// 2. Many clouds, registered the way CB-Tumblebug's register-cloud.sh does
// ------------------------------------------------------------------------------------------

#[test]
fn tumblebug_registers_ten_cloudtwin_clouds() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Serve::new(100.0)
        .set("lifecycle.providers.cloudtwin.create_failure_p=0")
        .start(tmp.path());
    let c = server.client();
    // One driver and one region for Cloud-Twin, a credential and connection per cloud
    // (TB@v0.5.0 conf.env: credential keys IdentityEndpoint, DomainName, MockName).
    c.ok("POST", "/spider/driver", &json!({"DriverName": "cloudtwin-driver01", "ProviderName": "CLOUDTWIN", "DriverLibFileName": "cloudtwin-driver-v1.0.so"}));
    c.ok("POST", "/spider/region", &json!({"RegionName": "cloudtwin-region01", "ProviderName": "CLOUDTWIN", "KeyValueInfoList": [{"Key": "Region", "Value": "default"}, {"Key": "Zone", "Value": "default-z1"}]}));
    for n in 1..=10 {
        c.ok("POST", "/spider/credential", &json!({"CredentialName": format!("cloudtwin-credential-{n}"), "ProviderName": "CLOUDTWIN", "KeyValueInfoList": [
            {"Key": "IdentityEndpoint", "Value": "http://cloudtwin.example:5000"},
            {"Key": "DomainName", "Value": format!("cloud-{n}")},
            {"Key": "MockName", "Value": "NULL"}]}));
        c.ok("POST", "/spider/connectionconfig", &json!({"ConfigName": format!("cloud-{n}-config"), "ProviderName": "CLOUDTWIN", "DriverName": "cloudtwin-driver01", "CredentialName": format!("cloudtwin-credential-{n}"), "RegionName": "cloudtwin-region01"}));
    }
    // CB-Tumblebug's location lookup before each create.
    for n in 1..=10 {
        let cc = c.ok(
            "GET",
            &format!("/spider/connectionconfig/cloud-{n}-config"),
            &Value::Null,
        );
        assert_eq!(cc["CredentialName"], format!("cloudtwin-credential-{n}"));
        let r = c.ok(
            "GET",
            &format!("/spider/region/{}", cc["RegionName"].as_str().unwrap()),
            &Value::Null,
        );
        assert_eq!(r["ProviderName"], "CLOUDTWIN");
        let rz = c.ok(
            "GET",
            "/spider/regionzone",
            &json!({"ConnectionName": format!("cloud-{n}-config")}),
        );
        assert_eq!(rz["regionzone"][0]["Name"], format!("cloud-{n}"), "{rz}");
    }
    // A second connection with cloud-3's credential reaches the same cloud.
    c.ok("POST", "/spider/connectionconfig", &json!({"ConfigName": "cloud-3-again", "ProviderName": "CLOUDTWIN", "DriverName": "cloudtwin-driver01", "CredentialName": "cloudtwin-credential-3", "RegionName": "cloudtwin-region01"}));

    let state = c.state();
    let clouds = state["clouds"].as_array().expect("clouds");
    assert_eq!(clouds.len(), 10, "{state}");
    let names: BTreeSet<String> = clouds
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    let want: BTreeSet<String> = (1..=10).map(|n| format!("cloudtwin:cloud-{n}")).collect();
    assert_eq!(names, want);
    assert!(
        clouds.iter().all(|c| c["provider"] == "cloudtwin"),
        "{state}"
    );
    assert_eq!(state["connections"].as_array().unwrap().len(), 11);
    let list = c.ok("GET", "/spider/connectionconfig", &Value::Null);
    assert_eq!(list["connectionconfig"].as_array().unwrap().len(), 11);

    // One VM per cloud, created in parallel: each cloud runs its own.
    thread::scope(|s| {
        for n in 1..=10 {
            let c = c.clone();
            s.spawn(move || {
                let conn = format!("cloud-{n}-config");
                c.network(&conn);
                let vm = c.ok("POST", "/spider/vm", &cloudtwin_vm(&conn, "vm-01"));
                check_vm_info(&vm, "vm-01");
                assert_eq!(vm["Region"]["Region"], format!("cloud-{n}"));
            });
        }
    });
    let state = c.state();
    for cloud in state["clouds"].as_array().unwrap() {
        assert_eq!(cloud["vms"], json!({"Running": 1}), "{cloud}");
    }
    assert_eq!(state["vms"], json!({"Running": 10}));
    let out = server.stop();
    assert_eq!(summary_int(&summary(&out), metric::API_CLOUDS_JOINED), 10);
}

// ------------------------------------------------------------------------------------------
// 3. Parallel creates with p = 0.2
// ------------------------------------------------------------------------------------------

#[test]
fn parallel_creates_fail_with_p_0_2() {
    const CLOUDS: usize = 4;
    const VMS: usize = 200;
    const THREADS: usize = 20;
    let tmp = tempfile::tempdir().unwrap();
    let server = Serve::new(100.0)
        .set("lifecycle.providers.cloudtwin.create_failure_p=0.2")
        .set("lifecycle.providers.cloudtwin.api_delay=1s")
        .set("lifecycle.providers.cloudtwin.boot_time=2s")
        .start(tmp.path());
    let c = server.client();
    for k in 1..=CLOUDS {
        cloudtwin_conn(&c, &format!("cloud-{k}"), &format!("ct{k}"));
    }
    // VM i on connection ct(i % CLOUDS + 1); thread t sends i = t, t + THREADS, ...
    let results: Vec<(String, String, u16, Value)> = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let c = c.clone();
                s.spawn(move || {
                    (t..VMS)
                        .step_by(THREADS)
                        .map(|i| {
                            let conn = format!("ct{}", i % CLOUDS + 1);
                            let name = format!("vm-{i:03}");
                            let (code, v) =
                                c.call("POST", "/spider/vm", &cloudtwin_vm(&conn, &name));
                            (conn, name, code, v)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a client thread"))
            .collect()
    });
    assert_eq!(results.len(), VMS, "every request answered");
    let mut want: BTreeMap<String, BTreeMap<String, &str>> = BTreeMap::new();
    let mut failed = 0;
    for (conn, name, code, v) in &results {
        let status = match code {
            200 => {
                check_vm_info(v, name);
                "Running"
            }
            500 => {
                let msg = v["message"].as_str().unwrap_or_default();
                assert!(
                    msg.contains(name.as_str()) && msg.contains("failed"),
                    "{name}: {v}"
                );
                failed += 1;
                "Failed"
            }
            other => panic!("POST /vm {name}: status {other}: {v}"),
        };
        want.entry(conn.clone())
            .or_default()
            .insert(name.clone(), status);
    }
    let (lo, hi) = binomial_interval(VMS, 0.2, 0.999);
    assert!(
        (lo..=hi).contains(&failed),
        "{failed} failures of {VMS}: outside binomial({VMS}, 0.2)'s 99.9% interval [{lo}, {hi}]"
    );
    // Failed VMs read Failed, the others Running.
    for (conn, vms) in &want {
        let got = c.statuses(conn);
        let got: BTreeMap<String, &str> =
            got.iter().map(|(k, v)| (k.clone(), v.as_str())).collect();
        assert_eq!(&got, vms, "statuses of {conn}");
    }
    let count = c.ok("GET", "/spider/countvm", &Value::Null);
    assert_eq!(count["count"], VMS);

    let out = server.stop();
    let s = summary(&out);
    assert_eq!(
        summary_int(&s, metric::API_VM_CREATE_FAILURES),
        failed as u64
    );
    assert_eq!(
        summary_int(&s, metric::API_VMS_CREATED),
        (VMS - failed) as u64
    );
    let journal = check_journal(&out);
    let creates: Vec<u16> = journal
        .values()
        .filter(|(r, _)| r["method"] == "POST" && r["path"] == "/spider/vm")
        .map(|(_, s)| *s)
        .collect();
    assert_eq!(creates.len(), VMS);
    assert_eq!(creates.iter().filter(|s| **s == 500).count(), failed);
}

// ------------------------------------------------------------------------------------------
// 4. Outages and CB-Dragonfly's pull API through the admin routes
// ------------------------------------------------------------------------------------------

#[test]
fn an_admin_outage_fails_one_clouds_vms() {
    let tmp = tempfile::tempdir().unwrap();
    // Speed 20: the 10-minute outage lasts 30 s of wall time, longer than the checks take.
    let server = Serve::new(20.0)
        .set("lifecycle.providers.cloudtwin.create_failure_p=0")
        .set("lifecycle.providers.cloudtwin.api_delay=1s")
        .set("lifecycle.providers.cloudtwin.boot_time=2s")
        .start(tmp.path());
    let c = server.client();
    for (cloud, conn) in [("cloud-1", "ct1"), ("cloud-2", "ct2")] {
        cloudtwin_conn(&c, cloud, conn);
    }
    thread::scope(|s| {
        for conn in ["ct1", "ct2"] {
            for i in 0..3 {
                let c = c.clone();
                s.spawn(move || {
                    c.ok(
                        "POST",
                        "/spider/vm",
                        &cloudtwin_vm(conn, &format!("vm-{i}")),
                    );
                });
            }
        }
    });
    // The agents answer while the VMs run (pull mode).
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    loop {
        let a = c.send(
            "GET",
            "/cloudtwin/agent/ct2/vm-0/cb-dragonfly/healthcheck",
            &[],
            b"",
        );
        if a.status == 204 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "agent of ct2/vm-0: {} {}",
            a.status,
            a.text
        );
        thread::sleep(Duration::from_millis(50));
    }
    let m = c.ok(
        "GET",
        "/cloudtwin/agent/ct2/vm-0/cb-dragonfly/metric/cpu",
        &Value::Null,
    );
    assert_eq!(m["name"], "cpu");
    assert_eq!(m["tags"]["vmId"], "vm-0");
    assert!(m["values"]["cpu_utilization"].is_number(), "{m}");
    c.fails(
        "GET",
        "/cloudtwin/agent/ct2/vm-0/cb-dragonfly/metric/gpu",
        &Value::Null,
        500,
        "not one of",
    );

    let o = c.ok(
        "POST",
        "/cloudtwin/outage",
        &json!({"scope": "region", "target": "cloudtwin:cloud-1", "duration": "10m"}),
    );
    assert_eq!(o["target"], "cloudtwin:cloud-1");
    let state = c.state();
    assert_eq!(state["outages"].as_array().unwrap().len(), 1, "{state}");
    assert_eq!(state["outages"][0]["target"], "cloudtwin:cloud-1");
    assert_eq!(state["outages"][0]["active"], true, "{state}");
    for i in 0..3 {
        c.wait_status("ct1", &format!("vm-{i}"), "Failed");
    }
    let s1 = c.statuses("ct1");
    let s2 = c.statuses("ct2");
    assert!(s1.values().all(|s| s == "Failed"), "{s1:?}");
    assert_eq!(s1.len(), 3);
    assert!(s2.values().all(|s| s == "Running"), "{s2:?}");
    assert_eq!(s2.len(), 3);
    let state = c.state();
    let by_name = |n: &str| {
        state["clouds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .unwrap_or_else(|| panic!("no cloud {n}: {state}"))["vms"]
            .clone()
    };
    assert_eq!(by_name("cloudtwin:cloud-1"), json!({"Failed": 3}));
    assert_eq!(by_name("cloudtwin:cloud-2"), json!({"Running": 3}));
    // The failed VMs' agents are gone; a bad outage target is refused.
    let a = c.send(
        "GET",
        "/cloudtwin/agent/ct1/vm-0/cb-dragonfly/healthcheck",
        &[],
        b"",
    );
    assert_eq!(a.status, 503, "{}", a.text);
    c.fails(
        "POST",
        "/cloudtwin/outage",
        &json!({"scope": "region", "target": "cloudtwin:nowhere", "duration": "1m"}),
        400,
        "",
    );
    c.fails(
        "POST",
        "/cloudtwin/outage",
        &json!({"scope": "region", "target": "cloudtwin:cloud-2", "duration": "1m", "bogus": 1}),
        400,
        "",
    );
    let out = server.stop();
    assert_eq!(summary_int(&summary(&out), metric::API_OUTAGES_INJECTED), 1);
}

// ------------------------------------------------------------------------------------------
// 5. SIGINT writes the results folder; replay reproduces it
// ------------------------------------------------------------------------------------------

#[test]
fn sigint_writes_results_that_replay_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Serve::new(100.0)
        .set("lifecycle.providers.cloudtwin.api_delay=1s")
        .set("lifecycle.providers.cloudtwin.boot_time=2s")
        .set("monitoring.interval=5s")
        .start(tmp.path());
    let c = server.client();
    cloudtwin_conn(&c, "cloud-1", "ct1");
    cloudtwin_conn(&c, "cloud-2", "ct2");
    c.register("MOCK", ("MockName", "mock_name00"), "default", "m1");
    c.network("m1");

    // Creates in parallel on the emulated clouds (p = 0.2: some fail) and on the mock.
    let created: Vec<(String, String, u16)> = thread::scope(|s| {
        let handles: Vec<_> = (0..24)
            .map(|i| {
                let c = c.clone();
                s.spawn(move || {
                    let conn = ["ct1", "ct2", "m1"][i % 3];
                    let name = format!("vm-{i:02}");
                    let body = if conn == "m1" {
                        mock_vm(conn, &name)
                    } else {
                        cloudtwin_vm(conn, &name)
                    };
                    let (code, v) = c.call("POST", "/spider/vm", &body);
                    assert!(code == 200 || code == 500, "{name}: {code} {v}");
                    (conn.to_string(), name, code)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // (vm-02, on the mock, is kept for the forced delete.)
    let running: Vec<&(String, String, u16)> = created
        .iter()
        .filter(|(_, name, code)| *code == 200 && name != "vm-02")
        .collect();
    let failed: Vec<&(String, String, u16)> =
        created.iter().filter(|(_, _, code)| *code == 500).collect();
    assert!(running.len() >= 2, "too few VMs running: {created:?}");

    // Control actions on the running ones, deletes (of a failed one too, and a forced one).
    let (conn, name, _) = running[0];
    let body = json!({"ConnectionName": conn});
    c.ok(
        "GET",
        &format!("/spider/controlvm/{name}?action=suspend"),
        &body,
    );
    c.wait_status(conn, name, "Suspended");
    c.ok(
        "PUT",
        &format!("/spider/controlvm/{name}?action=resume"),
        &body,
    );
    c.wait_status(conn, name, "Running");
    let (conn2, name2, _) = running[1];
    let body2 = json!({"ConnectionName": conn2});
    c.ok(
        "GET",
        &format!("/spider/controlvm/{name2}?action=reboot"),
        &body2,
    );
    c.call(
        "GET",
        &format!("/spider/controlvm/{name2}?action=reboot"),
        &body2,
    ); // busy: 500
    c.wait_status(conn2, name2, "Running");
    c.ok("DELETE", &format!("/spider/vm/{name2}"), &body2);
    if let Some((conn, name, _)) = failed.first() {
        c.ok(
            "DELETE",
            &format!("/spider/vm/{name}"),
            &json!({"ConnectionName": conn}),
        );
    }
    c.ok(
        "DELETE",
        "/spider/vm/vm-02?force=true",
        &json!({"ConnectionName": "m1"}),
    );
    // Monitoring, provider change, outage, errors.
    c.call(
        "GET",
        &format!("/cloudtwin/agent/{conn}/{name}/cb-dragonfly/metric/mem"),
        &Value::Null,
    );
    c.ok(
        "PUT",
        "/cloudtwin/provider/cloudtwin",
        &json!({"create_failure_p": 0.5, "boot_time": "3s"}),
    );
    c.ok(
        "POST",
        "/cloudtwin/outage",
        &json!({"scope": "region", "target": "cloudtwin:cloud-2", "duration": "10m"}),
    );
    for i in 0..6 {
        c.call(
            "POST",
            "/spider/vm",
            &cloudtwin_vm("ct1", &format!("late-{i}")),
        );
    }
    c.fails(
        "GET",
        "/spider/vm",
        &json!({"ConnectionName": "nope"}),
        500,
        "does not exist",
    );
    c.fails("POST", "/spider/vm", &json!("not an object"), 400, "");
    c.fails("GET", "/spider/nothing", &Value::Null, 404, "Not Found");
    let before = c.state();

    let (out, stdout) = server.stop_within(STOP_TIMEOUT);
    assert!(stdout.contains("stopped: "), "{stdout}");
    let journal = check_journal(&out);
    let s = summary(&out);
    // Every request that reached the simulation is in the journal (the last state call too).
    assert_eq!(
        journal.len() as u64,
        before["api"]["requests"].as_u64().unwrap()
    );
    assert_eq!(summary_int(&s, metric::API_REQUESTS), journal.len() as u64);
    assert_eq!(summary_int(&s, metric::API_ANSWERS), journal.len() as u64);
    assert_eq!(summary_int(&s, metric::API_OUTAGES_INJECTED), 1);
    assert_eq!(summary_int(&s, metric::API_CLOUDS_JOINED), 3);
    let manifest = common::read_json(&out.join(file::MANIFEST));
    assert_eq!(manifest["tool"], "cloudtwin");

    // Replay: every CSV, the summary included, byte for byte.
    let again = tmp.path().join("replayed");
    let (code, stdout, stderr) = replay(&out, &again);
    assert_eq!(code, 0, "replay failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("answers agree"), "{stdout}");
    assert_same_csvs(&out, &again);
    // The replay's own journal has the same requests and statuses.
    let replayed = check_journal(&again);
    assert_eq!(
        journal.values().map(|(_, s)| *s).collect::<Vec<_>>(),
        replayed.values().map(|(_, s)| *s).collect::<Vec<_>>()
    );

    // A folder without a journal, or with a journal cut short, is not a served session.
    let copy = tmp.path().join("no-journal");
    std::fs::create_dir(&copy).unwrap();
    for (name, bytes) in files(&out) {
        if name != file::API_JOURNAL && !name.contains('/') {
            std::fs::write(copy.join(&name), bytes).unwrap();
        }
    }
    let (code, _, stderr) = replay(&copy, &tmp.path().join("r2"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(file::API_JOURNAL), "{stderr}");
    let text = std::fs::read_to_string(out.join(file::API_JOURNAL)).unwrap();
    let cut: String = text
        .lines()
        .take(text.lines().count() - 1)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(copy.join(file::API_JOURNAL), cut).unwrap();
    let (code, _, stderr) = replay(&copy, &tmp.path().join("r3"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no end line"), "{stderr}");
}

/// A `POST /vm` still waiting for its VM when SIGINT comes is answered 503, and the server
/// exits (it must not wait for the VM).
#[test]
fn sigint_answers_a_blocked_create_with_503() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, c, blocked) = blocked_create(tmp.path());
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    while c.state()["api"]["waiting"] != 1 {
        assert!(
            Instant::now() < deadline,
            "the create never reached the twin"
        );
        thread::sleep(Duration::from_millis(20));
    }
    // The VM needs a simulated hour (6 wall minutes): the server must not wait for it.
    let (out, _) = server.stop_within(Duration::from_secs(20));
    let (code, v) = blocked.join().expect("the client thread");
    assert_eq!(code, 503, "{v}");
    let journal = check_journal(&out);
    assert!(
        journal
            .values()
            .any(|(r, s)| r["path"] == "/spider/vm" && *s == 503)
    );
    assert_replays(&out);
}

/// `api.csv` counts every answer of the session, the ones after its last sample too.
#[test]
fn api_csv_counts_every_answer() {
    let tmp = tempfile::tempdir().unwrap();
    // A sample every simulated hour: the whole session (seconds of wall time) is one
    // partial interval.
    let server = Serve::new(100.0)
        .set("simulation.sample_interval=1h")
        .start(tmp.path());
    let c = server.client();
    c.register("MOCK", ("MockName", "m"), "default", "m1");
    c.network("m1");
    c.ok("POST", "/spider/vm", &mock_vm("m1", "vm-01"));
    c.fails(
        "GET",
        "/spider/vm",
        &json!({"ConnectionName": "nope"}),
        500,
        "does not exist",
    );
    let out = server.stop();
    let answers = summary_int(&summary(&out), metric::API_ANSWERS);
    let text = std::fs::read_to_string(out.join(file::API)).unwrap();
    let calls: u64 = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(calls, answers, "api.csv:\n{text}");
}

// ------------------------------------------------------------------------------------------
// 6. Security and robustness
// ------------------------------------------------------------------------------------------

#[test]
fn basic_auth_guards_every_route_but_health() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Serve::new(100.0).auth("spider", "s3cret").start(tmp.path());
    let c = server.client();
    let anon = server.anonymous();
    let wrong = Client::new(&server.addr, Some(basic("spider", "wrong")));

    for path in [
        "/spider/readyz",
        "/spider/healthcheck",
        "/spider/health",
        "/spider/ping",
    ] {
        let a = anon.send("GET", path, &[], b"");
        assert_eq!(a.status, 200, "{path}: {}", a.text);
        assert_eq!(a.json(), json!({"message": "CB-Spider is ready"}));
    }
    let before = c.state();
    let driver = json!({"DriverName": "mock-driver01", "ProviderName": "MOCK"});
    for (client, what) in [(&anon, "no credentials"), (&wrong, "a wrong password")] {
        for (m, path, body) in [
            ("POST", "/spider/driver", driver.clone()),
            ("GET", "/spider/driver", Value::Null),
            ("GET", "/cloudtwin/state", Value::Null),
            (
                "POST",
                "/cloudtwin/outage",
                json!({"scope": "provider", "target": "mock", "duration": "1h"}),
            ),
            ("DELETE", "/spider/vm/x", json!({"ConnectionName": "c"})),
            ("GET", "/spider/nothing", Value::Null),
        ] {
            let a = client.send(
                m,
                path,
                &[("Content-Type", "application/json")],
                body.to_string().as_bytes(),
            );
            assert_eq!(a.status, 401, "{m} {path} with {what}: {}", a.text);
            assert!(
                a.www_authenticate
                    .as_deref()
                    .is_some_and(|h| h.starts_with("Basic")),
                "{m} {path}: no WWW-Authenticate"
            );
        }
    }
    // Nothing reached the twin: only the state calls were counted.
    let after = c.state();
    assert_eq!(
        after["api"]["requests"].as_u64().unwrap(),
        before["api"]["requests"].as_u64().unwrap() + 1,
        "{before}\n{after}"
    );
    assert_eq!(after["outages"], json!([]));
    assert_eq!(
        c.ok("GET", "/spider/driver", &Value::Null),
        json!({"driver": []})
    );
    // With the credentials everything works.
    c.register("MOCK", ("MockName", "m"), "default", "m1");
    c.network("m1");
    check_vm_info(
        &c.ok("POST", "/spider/vm", &mock_vm("m1", "vm-01")),
        "vm-01",
    );
    let out = server.stop();
    let journal = check_journal(&out);
    assert!(
        journal.values().all(|(_, s)| *s != 401),
        "an unauthorised request reached the journal"
    );
}

#[test]
fn auth_from_spider_environment_variables() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Serve::new(100.0)
        .env("SPIDER_USERNAME", "default")
        .env("SPIDER_PASSWORD", "default")
        .start(tmp.path());
    let anon = server.anonymous();
    assert_eq!(anon.send("GET", "/spider/driver", &[], b"").status, 401);
    assert_eq!(anon.send("GET", "/spider/readyz", &[], b"").status, 200);
    let c = Client::new(&server.addr, Some(basic("default", "default")));
    assert_eq!(
        c.ok("GET", "/spider/cloudos", &Value::Null)["cloudos"]
            .as_array()
            .unwrap()
            .len(),
        14
    );
    server.stop();
}

#[test]
fn bad_requests_get_spiders_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Serve::new(100.0).auth("u", "p").start(tmp.path());
    let c = server.client();
    c.register("MOCK", ("MockName", "m"), "default", "m1");
    c.network("m1");

    // A body over 1 MiB is refused before it reaches the twin, and the server goes on.
    let auth = basic("u", "p");
    let big = format!(
        r#"{{"ConnectionName":"m1","ReqInfo":{{"Name":"{}"}}}}"#,
        "x".repeat(2 << 20)
    );
    let head = format!(
        "POST /spider/keypair HTTP/1.1\r\nAuthorization: {auth}\r\nContent-Type: application/json"
    );
    let (status, _) = raw_http(&server.addr, head.as_bytes(), big.as_bytes(), true)
        .expect("an answer to a 2 MiB body");
    assert_eq!(status, 413);
    // Just under the limit is read (and refused for its name).
    let under = format!(
        r#"{{"ConnectionName":"m1","ReqInfo":{{"Name":"{}"}}}}"#,
        "x".repeat(1_000_000)
    );
    let (status, body) =
        raw_http(&server.addr, head.as_bytes(), under.as_bytes(), true).expect("an answer");
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    assert_eq!(c.send("GET", "/spider/readyz", &[], b"").status, 200);

    // Malformed JSON: 400 with Spider's {"message"}.
    for body in [
        "{",
        "{\"ConnectionName\": }",
        "[1,2",
        "\u{0}",
        "{\"ConnectionName\": 5}",
        "null",
    ] {
        let a = c.send(
            "POST",
            "/spider/vpc",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        assert_eq!(a.status, 400, "{body:?}: {}", a.text);
        assert!(a.json()["message"].is_string(), "{}", a.text);
        assert_eq!(a.content_type.as_deref(), Some("application/json"));
    }
    let a = c.send("GET", "/spider/vm", &[], b"\xff\xfe{not json");
    assert_eq!(a.status, 400, "{}", a.text);

    // Unknown connection, missing objects, duplicates.
    c.fails(
        "GET",
        "/spider/vm",
        &json!({"ConnectionName": "nope"}),
        500,
        "does not exist",
    );
    c.fails(
        "GET",
        "/spider/vmstatus?ConnectionName=nope",
        &Value::Null,
        500,
        "does not exist",
    );
    c.fails(
        "POST",
        "/spider/vm",
        &mock_vm("nope", "vm-01"),
        500,
        "does not exist",
    );
    c.fails(
        "GET",
        "/spider/vm",
        &Value::Null,
        500,
        "ConnectionName is required",
    );
    c.ok("POST", "/spider/vm", &mock_vm("m1", "vm-01"));
    c.fails(
        "POST",
        "/spider/vm",
        &mock_vm("m1", "vm-01"),
        500,
        "VM 'vm-01' already exists in connection 'm1'",
    );
    c.fails(
        "POST",
        "/spider/keypair",
        &json!({"ConnectionName": "m1", "ReqInfo": {"Name": "keypair-01"}}),
        500,
        "already exists",
    );
    c.fails(
        "POST",
        "/spider/connectionconfig",
        &json!({"ConfigName": "m1", "ProviderName": "MOCK", "DriverName": "m1-d", "CredentialName": "m1-c", "RegionName": "m1-r"}),
        500,
        "already exists",
    );
    c.fails(
        "DELETE",
        "/spider/vpc/vpc-01",
        &json!({"ConnectionName": "m1"}),
        500,
        "in use",
    );
    c.fails(
        "DELETE",
        "/spider/driver/m1-d",
        &Value::Null,
        500,
        "is used by",
    );
    c.fails(
        "POST",
        "/spider/vm",
        &vm_body("m1", "vm-02", "no-image", "mock-vmspec-01"),
        500,
        "no-image image does not exist!!",
    );

    // Names with spaces and odd characters are refused (4xx) and create nothing.
    let odd = [
        "a b",
        "vm/1",
        "vm;rm -rf",
        "caf\u{e9}",
        "\u{2603}",
        "tab\tname",
        "quote\"d",
        "",
    ];
    let long = "x".repeat(256);
    for name in odd.iter().copied().chain([long.as_str()]) {
        let bodies = [
            ("/spider/vm", mock_vm("m1", name)),
            (
                "/spider/keypair",
                json!({"ConnectionName": "m1", "ReqInfo": {"Name": name}}),
            ),
            (
                "/spider/vpc",
                json!({"ConnectionName": "m1", "ReqInfo": {"Name": name, "IPv4_CIDR": "10.0.0.0/16", "SubnetInfoList": []}}),
            ),
            (
                "/spider/vpc",
                json!({"ConnectionName": "m1", "ReqInfo": {"Name": "vpc-09", "IPv4_CIDR": "10.0.0.0/16", "SubnetInfoList": [{"Name": name, "IPv4_CIDR": "10.0.1.0/24"}]}}),
            ),
            (
                "/spider/vpc/vpc-01/subnet",
                json!({"ConnectionName": "m1", "ReqInfo": {"Name": name, "IPv4_CIDR": "192.168.9.0/24"}}),
            ),
            (
                "/spider/securitygroup",
                json!({"ConnectionName": "m1", "ReqInfo": {"Name": name, "VPCName": "vpc-01"}}),
            ),
            (
                "/spider/driver",
                json!({"DriverName": name, "ProviderName": "MOCK"}),
            ),
            (
                "/spider/credential",
                json!({"CredentialName": name, "ProviderName": "MOCK"}),
            ),
            (
                "/spider/region",
                json!({"RegionName": name, "ProviderName": "MOCK"}),
            ),
            (
                "/spider/connectionconfig",
                json!({"ConfigName": name, "ProviderName": "MOCK", "DriverName": "m1-d", "CredentialName": "m1-c", "RegionName": "m1-r"}),
            ),
        ];
        for (path, body) in bodies {
            let (code, v) = c.call("POST", path, &body);
            assert!(
                (400..500).contains(&code),
                "POST {path} named {name:?}: {code} {v}"
            );
        }
    }
    let state = c.state();
    assert_eq!(state["api_vms"], 1, "{state}");
    assert_eq!(state["connections"], json!(["m1"]));
    assert_eq!(
        c.ok("GET", "/spider/keypair?ConnectionName=m1", &Value::Null)["keypair"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Names in paths are looked up, not trusted: an odd one is simply not there.
    c.fails(
        "GET",
        "/spider/vm/a%20b?ConnectionName=m1",
        &Value::Null,
        500,
        "does not exist",
    );
    c.fails(
        "GET",
        "/spider/vm/..%2F..%2Fetc%2Fpasswd?ConnectionName=m1",
        &Value::Null,
        500,
        "does not exist",
    );
    // Unknown routes and methods.
    c.fails("GET", "/spider/nothing", &Value::Null, 404, "Not Found");
    c.fails(
        "PATCH",
        "/spider/vm",
        &Value::Null,
        405,
        "Method Not Allowed",
    );
    c.fails("GET", "/elsewhere", &Value::Null, 404, "Not Found");
    server.stop();
}

// ------------------------------------------------------------------------------------------
// 7. Random and malformed requests
// ------------------------------------------------------------------------------------------

/// xorshift64*: a small, fixed-seed generator.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Path segments of Spider's and the twin's routes, and names the fuzz creates.
const SEGMENTS: &[&str] = &[
    "spider",
    "cloudtwin",
    "vm",
    "vmstatus",
    "controlvm",
    "vpc",
    "subnet",
    "securitygroup",
    "keypair",
    "driver",
    "credential",
    "region",
    "connectionconfig",
    "regionzone",
    "vmimage",
    "vmspec",
    "allvm",
    "allvpc",
    "allsecuritygroup",
    "allkeypair",
    "countvm",
    "cspvm",
    "cloudos",
    "outage",
    "provider",
    "state",
    "agent",
    "cb-dragonfly",
    "metric",
    "healthcheck",
    "cpu",
    "mem",
    "readyz",
    "mock",
    "m1",
    "m2",
    "f1",
    "vm-0",
    "vm-1",
    "vm-2",
    "vm-3",
    "vpc-01",
    "subnet-01",
    "sg-01",
    "keypair-01",
    "mock-vmimage-01",
    "mock-vmspec-01",
];

/// One random request: its bytes, and whether the request line is valid HTTP (so an answer
/// is owed).
struct Fuzzed {
    head: Vec<u8>,
    body: Vec<u8>,
    valid: bool,
    agent_route: bool,
    /// The client leaves without reading the answer.
    abandon: bool,
}

fn segment(r: &mut Rng) -> (String, bool) {
    match r.below(20) {
        0 => (String::new(), true),
        1 => (
            r.pick(&[
                ".",
                "..",
                "%",
                "%zz",
                "%00",
                "%2F",
                "%ff%fe",
                "%E2%98%83",
                "caf%C3%A9",
            ])
            .to_string(),
            true,
        ),
        2 => ("y".repeat(300 + r.below(4000)), true),
        3 => {
            let safe = b"abcXYZ0189-._~!$&'()*+,;=:@";
            let n = 1 + r.below(12);
            ((0..n).map(|_| *r.pick(safe) as char).collect(), true)
        }
        4 if r.chance(30) => (
            r.pick(&["\u{e9}\u{2603}", "a b", "tab\t", "\"q\""])
                .to_string(),
            false,
        ),
        _ => (r.pick(SEGMENTS).to_string(), true),
    }
}

fn fuzz_path(r: &mut Rng) -> (String, bool) {
    let mut valid = true;
    let mut path = match r.below(20) {
        0..=11 => "/spider".to_string(),
        12..=14 => "/cloudtwin".to_string(),
        15 => String::new(),
        _ => format!(
            "/{}",
            r.pick(&["metrics", "", "spider/readyz", "spiderx", "cloudtwinx"])
        ),
    };
    for _ in 0..r.below(5) {
        let (s, ok) = segment(r);
        valid &= ok;
        path.push('/');
        path.push_str(&s);
    }
    if path.is_empty() || r.chance(5) {
        path.push('/');
    }
    if r.chance(50) {
        let parts = [
            "ConnectionName=m1",
            "ConnectionName=m2",
            "ConnectionName=f1",
            "ConnectionName=nope",
            "ConnectionName=",
            "ConnectionName=m%31",
            "action=suspend",
            "action=resume",
            "action=reboot",
            "action=explode",
            "action=",
            "force=true",
            "a=%zz",
            "&&",
            "=",
            "%",
        ];
        let q: Vec<&str> = (0..1 + r.below(3)).map(|_| *r.pick(&parts)).collect();
        path.push('?');
        path.push_str(&q.join("&"));
    }
    (path, valid)
}

fn fuzz_template(r: &mut Rng) -> String {
    let conn = *r.pick(&["m1", "m2", "f1", "nope"]);
    let vm = format!("vm-{}", r.below(4));
    let mock = *r.pick(&["mock-a", "mock-b", "mock-c"]);
    match r.below(14) {
        0 => json!({"ConnectionName": conn}).to_string(),
        1 | 2 => mock_vm(conn, &vm).to_string(),
        3 => vm_body(conn, &vm, "no-image", "mock-vmspec-01").to_string(),
        4 => json!({"ConnectionName": conn, "ReqInfo": {"Name": format!("vpc-0{}", r.below(3)), "IPv4_CIDR": "10.0.0.0/16", "SubnetInfoList": [{"Name": "subnet-01", "IPv4_CIDR": "10.0.1.0/24"}]}}).to_string(),
        5 => json!({"ConnectionName": conn, "ReqInfo": {"Name": format!("sg-0{}", r.below(3)), "VPCName": "vpc-01", "SecurityRules": []}}).to_string(),
        6 => json!({"ConnectionName": conn, "ReqInfo": {"Name": format!("keypair-0{}", r.below(3))}}).to_string(),
        7 => json!({"ConnectionName": conn, "ReqInfo": {"Name": "subnet-02", "IPv4_CIDR": "10.0.2.0/24"}}).to_string(),
        8 => {
            let p = *r.pick(&["MOCK", "CLOUDTWIN", "NOCLOUD"]);
            let key = if p == "MOCK" { "MockName" } else { "DomainName" };
            let v = match r.below(4) {
                0 => json!({"DriverName": "fd", "ProviderName": p}),
                1 => json!({"CredentialName": format!("fc-{mock}"), "ProviderName": p, "KeyValueInfoList": [{"Key": key, "Value": mock}]}),
                2 => json!({"RegionName": "fr", "ProviderName": p, "KeyValueInfoList": [{"Key": "Region", "Value": "default"}]}),
                _ => json!({"ConfigName": "f1", "ProviderName": p, "DriverName": "fd", "CredentialName": format!("fc-{mock}"), "RegionName": "fr"}),
            };
            v.to_string()
        }
        // Admin bodies that are all refused (bad targets, types, keys, files).
        9 => r
            .pick(&[
                r#"{"scope":"region","target":"nowhere:nothing","duration":"1m"}"#,
                r#"{"scope":"planet","target":"mock","duration":"1m"}"#,
                r#"{"scope":"region","target":"mock:mock-a","duration":"0s"}"#,
                r#"{"scope":"zone","target":"","duration":"-1s"}"#,
                r#"{"create_failure_p":"x"}"#,
                r#"{"api_delay":{"file":"/etc/passwd"}}"#,
                r#"{"file":"/etc/shadow"}"#,
                r#"{"max_vms_per_region":1}"#,
                r#"{"api_rate":-1}"#,
                r#"{"api_burst":0}"#,
                r#"{"unknown":true}"#,
            ])
            .to_string(),
        10 => r
            .pick(&[
                r#"{"ConnectionName":5}"#,
                r#"{"ConnectionName":null}"#,
                r#"{"ConnectionName":["m1"]}"#,
                r#"{"ConnectionName":"m1","ReqInfo":"x"}"#,
                r#"{"ConnectionName":"m1","ReqInfo":{"Name":7}}"#,
                "[]",
                "\"str\"",
                "12",
                "null",
                "true",
                "{}",
            ])
            .to_string(),
        11 => json!({"ConnectionName": conn, "ReqInfo": {"Name": "\u{e9}\u{2603} name \u{0}", "ImageName": "mock-vmimage-01"}}).to_string(),
        12 => json!({"ConnectionName": conn, "ReqInfo": {"Name": "n".repeat(1 + r.below(100_000))}}).to_string(),
        _ => "[".repeat(1 + r.below(20_000)),
    }
}

/// `b` corrupted: cut, bytes replaced or inserted.
fn corrupt(r: &mut Rng, mut b: Vec<u8>) -> Vec<u8> {
    for _ in 0..1 + r.below(4) {
        let i = r.below(b.len().max(1));
        match r.below(3) {
            0 => b.truncate(i),
            1 if !b.is_empty() => {
                let at = i.min(b.len() - 1);
                b[at] = r.next() as u8;
            }
            _ => {
                let n = 1 + r.below(8);
                let junk = r.bytes(n);
                let at = i.min(b.len());
                b.splice(at..at, junk);
            }
        }
    }
    b
}

fn fuzz_body(r: &mut Rng) -> Vec<u8> {
    match r.below(10) {
        0 => Vec::new(),
        1 => {
            let n = r.below(2000);
            r.bytes(n)
        }
        2 | 3 => {
            let b = fuzz_template(r).into_bytes();
            corrupt(r, b)
        }
        4 if r.chance(10) => format!(
            r#"{{"ConnectionName":"m1","pad":"{}"}}"#,
            "p".repeat(500_000)
        )
        .into_bytes(),
        _ => fuzz_template(r).into_bytes(),
    }
}

/// A request to one of the twin's routes, with names from small pools (so objects are
/// created, found, refused as duplicates, controlled and deleted) and, mostly, a body that
/// fits the route.
fn fuzz_route(r: &mut Rng) -> (&'static str, String, Vec<u8>) {
    let conn = *r.pick(&["m1", "m1", "m2", "m2", "f1", "nope"]);
    let vm = format!("vm-{}", r.below(8));
    let conn_body = json!({"ConnectionName": conn}).to_string();
    let action = *r.pick(&[
        "suspend", "resume", "reboot", "suspend", "resume", "explode",
    ]);
    let (method, path, body): (&str, String, String) = match r.below(26) {
        0..=3 => {
            let body = if conn == "f1" {
                cloudtwin_vm(conn, &vm)
            } else {
                mock_vm(conn, &vm)
            };
            ("POST", "/spider/vm".into(), body.to_string())
        }
        4 => ("GET", "/spider/vm".into(), conn_body),
        5 | 6 => ("GET", format!("/spider/vm/{vm}"), conn_body),
        7 | 8 => {
            let force = if r.chance(30) { "?force=true" } else { "" };
            ("DELETE", format!("/spider/vm/{vm}{force}"), conn_body)
        }
        9 => ("GET", "/spider/vmstatus".into(), conn_body),
        10 | 11 => ("GET", format!("/spider/vmstatus/{vm}"), conn_body),
        12..=14 => (
            *r.pick(&["GET", "PUT"]),
            format!("/spider/controlvm/{vm}?action={action}"),
            conn_body,
        ),
        15 => (
            *r.pick(&["GET", "DELETE"]),
            format!(
                "/spider/{}/{}",
                r.pick(&["vpc", "securitygroup", "keypair"]),
                // (Not sg-01 and keypair-01: creates need them.)
                r.pick(&[
                    "vpc-01",
                    "vpc-02",
                    "vpc-00",
                    "sg-02",
                    "sg-00",
                    "keypair-02",
                    "keypair-00"
                ])
            ),
            conn_body,
        ),
        16 => (
            "POST",
            format!("/spider/{}", r.pick(&["vpc", "securitygroup", "keypair"])),
            fuzz_template(r),
        ),
        17 => (
            *r.pick(&["POST", "GET", "DELETE"]),
            // (Not subnet-01: creates need it.)
            format!(
                "/spider/vpc/vpc-0{}/subnet{}",
                r.below(3),
                r.pick(&["", "/subnet-02", "/subnet-00"])
            ),
            fuzz_template(r),
        ),
        18 => (
            "GET",
            format!(
                "/spider/{}",
                r.pick(&[
                    "vmimage",
                    "vmspec",
                    "regionzone",
                    "allvm",
                    "allvpc",
                    "countvm",
                    "vmimage/mock-vmimage-02",
                    "vmspec/mock-vmspec-03"
                ])
            ),
            conn_body,
        ),
        19 => (
            *r.pick(&["POST", "GET", "DELETE"]),
            format!(
                "/spider/{}",
                r.pick(&[
                    "driver",
                    "credential",
                    "region",
                    "connectionconfig",
                    "driver/fd",
                    "credential/fc-mock-a",
                    "region/fr",
                    "connectionconfig/f1",
                    "connectionconfig/m2"
                ])
            ),
            fuzz_template(r),
        ),
        20 => ("GET", format!("/spider/countvm/{conn}"), String::new()),
        21 => ("GET", "/cloudtwin/state".into(), String::new()),
        22 => (
            "GET",
            format!(
                "/cloudtwin/agent/{conn}/{vm}/cb-dragonfly/{}",
                r.pick(&[
                    "healthcheck",
                    "metric/cpu",
                    "metric/mem",
                    "metric/net",
                    "metric/x"
                ])
            ),
            String::new(),
        ),
        23 => ("POST", "/cloudtwin/outage".into(), fuzz_template(r)),
        24 => (
            "PUT",
            format!(
                "/cloudtwin/provider/{}",
                r.pick(&["mock", "cloudtwin", "aws"])
            ),
            fuzz_template(r),
        ),
        _ => ("GET", "/spider/cloudos".into(), String::new()),
    };
    // ConnectionName in the query instead of the body, sometimes.
    let (path, body) = if r.chance(25) && body.starts_with("{\"ConnectionName\"") {
        let sep = if path.contains('?') { '&' } else { '?' };
        (format!("{path}{sep}ConnectionName={conn}"), String::new())
    } else {
        (path, body)
    };
    let body = match r.below(10) {
        0 => corrupt(r, body.into_bytes()),
        1 => fuzz_body(r),
        _ => body.into_bytes(),
    };
    (method, path, body)
}

fn fuzz_request(r: &mut Rng) -> Fuzzed {
    if r.chance(60) {
        let (method, path, body) = fuzz_route(r);
        return Fuzzed {
            head: format!("{method} {path} HTTP/1.1\r\nContent-Type: application/json")
                .into_bytes(),
            body,
            valid: true,
            agent_route: path.starts_with("/cloudtwin/agent"),
            abandon: r.chance(2),
        };
    }
    let (method, mut valid) = match r.below(24) {
        0..=6 => ("GET", true),
        7..=11 => ("POST", true),
        12..=13 => ("PUT", true),
        14..=16 => ("DELETE", true),
        17 => ("PATCH", true),
        18 => ("HEAD", true),
        19 => ("OPTIONS", true),
        20 => ("get", true),
        21 => ("FROB", true),
        22 => ("G ET", false),
        _ => ("", false),
    };
    let (path, path_valid) = fuzz_path(r);
    valid &= path_valid && !path.is_empty();
    let body = fuzz_body(r);
    let mut head = format!("{method} {path} HTTP/1.1").into_bytes();
    if r.chance(80) {
        head.extend_from_slice(b"\r\nContent-Type: application/json");
    }
    Fuzzed {
        head,
        body,
        valid,
        agent_route: path.starts_with("/cloudtwin/agent"),
        abandon: r.chance(2),
    }
}

/// Checks one answer to a well-formed request: a status the twin gives, and Spider's JSON
/// error body when it refuses.
fn check_fuzz_answer(f: &Fuzzed, answer: Option<(u16, Vec<u8>)>) {
    let shown = String::from_utf8_lossy(&f.head[..f.head.len().min(200)]).to_string();
    let Some((status, body)) = answer else {
        panic!("no answer to {shown:?}");
    };
    let allowed = [200, 204, 400, 404, 405, 413, 414, 431, 500];
    assert!(
        allowed.contains(&status) || (status == 503 && f.agent_route),
        "{shown:?}: status {status}: {}",
        String::from_utf8_lossy(&body)
    );
    if status >= 400 && status != 413 && !body.is_empty() {
        let v: Value = serde_json::from_slice(&body).unwrap_or_else(|e| {
            panic!(
                "{shown:?}: {status} body is not JSON ({e}): {}",
                String::from_utf8_lossy(&body)
            )
        });
        assert!(v["message"].is_string(), "{shown:?}: {v}");
    }
}

#[test]
fn random_and_malformed_requests_leave_the_twin_consistent() {
    const THREADS: u64 = 4;
    const PER_THREAD: usize = 500;
    let budget = Duration::from_secs(40);
    let tmp = tempfile::tempdir().unwrap();
    // Two mock clouds (instant) and a Cloud-Twin one (seconds per action, p = 0.2 failures:
    // blocking creates and deletes, VMs busy with an action, forced deletes meeting creates).
    let server = Serve::new(200.0).start(tmp.path());
    let c = server.client();
    for (m, conn) in [("mock-a", "m1"), ("mock-b", "m2")] {
        c.register("MOCK", ("MockName", m), "default", conn);
        c.network(conn);
    }
    cloudtwin_conn(&c, "cloud-f", "f1");
    let started = Instant::now();
    let seen: BTreeMap<Option<u16>, usize> = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let addr = server.addr.clone();
                s.spawn(move || {
                    let mut r = Rng::new(0xC10D_7A1A + t);
                    let mut seen: BTreeMap<Option<u16>, usize> = BTreeMap::new();
                    while seen.values().sum::<usize>() < PER_THREAD && started.elapsed() < budget {
                        let f = fuzz_request(&mut r);
                        let answer = raw_http(&addr, &f.head, &f.body, !f.abandon);
                        *seen.entry(answer.as_ref().map(|a| a.0)).or_default() += 1;
                        if f.valid && !f.abandon {
                            check_fuzz_answer(&f, answer);
                        }
                    }
                    seen
                })
            })
            .collect();
        let mut all = BTreeMap::new();
        for h in handles {
            for (k, n) in h.join().expect("a fuzz thread") {
                *all.entry(k).or_default() += n;
            }
        }
        all
    });
    let sent: usize = seen.values().sum();
    eprintln!(
        "fuzz: {sent} requests in {:.1?}; answers by status (None: none read): {seen:?}",
        started.elapsed()
    );
    assert!(sent > 0);

    // Still up and serving.
    assert_eq!(c.send("GET", "/spider/readyz", &[], b"").status, 200);
    let metrics = c.send("GET", "/metrics", &[], b"");
    assert_eq!(metrics.status, 200);
    c.register("MOCK", ("MockName", "after-fuzz"), "default", "after");
    c.network("after");
    check_vm_info(
        &c.ok("POST", "/spider/vm", &mock_vm("after", "vm-after")),
        "vm-after",
    );
    let l = c.ok("GET", "/spider/vm", &json!({"ConnectionName": "after"}));
    assert_eq!(l["vm"].as_array().unwrap().len(), 1, "{l}");
    assert_eq!(
        c.statuses("after").get("vm-after").map(String::as_str),
        Some("Running")
    );

    // The admin state agrees with Spider's lists.
    let state = c.state();
    let conns: BTreeSet<String> = state["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    let listed: BTreeSet<String> =
        c.ok("GET", "/spider/connectionconfig", &Value::Null)["connectionconfig"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["ConfigName"].as_str().unwrap().to_string())
            .collect();
    assert_eq!(conns, listed);
    let mut total = 0;
    for conn in &conns {
        let statuses = c.statuses(conn);
        for (name, s) in &statuses {
            assert!(SPIDER_STATUSES.contains(&s.as_str()), "{conn}/{name}: {s}");
        }
        let vms: BTreeSet<String> = c.ok(
            "GET",
            &format!("/spider/vm?ConnectionName={conn}"),
            &Value::Null,
        )["vm"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["IId"]["NameId"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(vms, statuses.keys().cloned().collect(), "{conn}");
        let count = c.ok("GET", &format!("/spider/countvm/{conn}"), &Value::Null);
        assert_eq!(count["count"], statuses.len(), "{conn}");
        total += statuses.len();
    }
    let state = c.state();
    eprintln!("fuzz: state afterwards: {state}");
    assert_eq!(state["api_vms"], total, "{state}");
    let by_status: u64 = state["vms"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(by_status, total as u64, "{state}");
    let by_cloud: u64 = state["clouds"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["vms"].as_object().unwrap().values())
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(by_cloud, total as u64, "{state}");
    assert_eq!(state["api"]["waiting"], 0, "{state}");

    // SIGINT: a clean exit, a journal of everything, and a replay to the same bytes.
    let out = server.stop();
    let journal = check_journal(&out);
    let s = summary(&out);
    eprintln!(
        "fuzz: {} requests journaled; API VMs created {}, failed {}, deleted {}; errors {}",
        journal.len(),
        s[metric::API_VMS_CREATED],
        s[metric::API_VM_CREATE_FAILURES],
        s[metric::API_VMS_DELETED],
        s[metric::API_ERRORS]
    );
    assert!(
        journal.len() > sent / 2,
        "{} journaled of {sent}",
        journal.len()
    );
    assert_eq!(summary_int(&s, metric::API_REQUESTS), journal.len() as u64);
    assert_replays(&out);
}

// ------------------------------------------------------------------------------------------
// 8. /metrics
// ------------------------------------------------------------------------------------------

#[test]
fn metrics_are_prometheus_text() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Serve::new(100.0).start(tmp.path());
    let c = server.client();
    c.register("MOCK", ("MockName", "m"), "default", "m1");
    c.network("m1");
    c.ok("POST", "/spider/vm", &mock_vm("m1", "vm-01"));
    c.fails(
        "GET",
        "/spider/vm",
        &json!({"ConnectionName": "nope"}),
        500,
        "does not exist",
    );
    let a = c.send("GET", "/metrics", &[], b"");
    assert_eq!(a.status, 200);
    assert!(
        a.content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("text/plain")),
        "{:?}",
        a.content_type
    );
    let t = &a.text;
    for want in [
        "cloudtwin_http_requests_total{route=\"POST /spider/vm\",status=\"200\"} 1",
        "cloudtwin_http_requests_total{route=\"GET /spider/vm\",status=\"500\"} 1",
        "cloudtwin_sim_time_seconds ",
        "cloudtwin_lag_seconds ",
        "cloudtwin_vms{provider=\"mock\",status=\"Running\"} 1",
        "cloudtwin_clouds 1",
        "# TYPE cloudtwin_http_requests_total counter",
    ] {
        assert!(t.contains(want), "/metrics lacks {want:?}:\n{t}");
    }
    // Every sample line is `name{labels} number`.
    for line in t.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (name, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        assert!(name.starts_with("cloudtwin_"), "{line}");
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
    let sim = metric(t, "cloudtwin_sim_time_seconds").expect("simulated time");
    assert!(sim > 0.0, "{sim}");
    // SIGTERM stops it as SIGINT does.
    let (out, _) = server.stop_with("-TERM", STOP_TIMEOUT);
    check_journal(&out);
    assert_replays(&out);
}

/// The value of the sample `name` (no labels) in a `/metrics` text, if it is there.
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name} {v}")))
}

/// `/metrics` counts the monitoring pipeline's reports as a running VM's agent sends them,
/// and a world without monitoring has no monitoring lines at all (not zeros).
#[test]
fn metrics_count_monitoring_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Serve::new(1000.0).start(tmp.path());
    let c = server.client();
    c.register("MOCK", ("MockName", "m"), "default", "m1");
    c.network("m1");
    c.ok("POST", "/spider/vm", &mock_vm("m1", "vm-01"));
    // The agent starts a simulated minute after its VM runs and then reports every 2 s (the
    // defaults of `monitoring.agent_start_delay` and `monitoring.interval`): well under a
    // wall second at 1,000x.
    // The one agent sends at most one report per 2 s after its first minute, and the counter
    // never goes back.
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    let mut last = 0.0;
    loop {
        let t = c.send("GET", "/metrics", &[], b"").text;
        let reports = metric(&t, "cloudtwin_monitoring_reports_total")
            .unwrap_or_else(|| panic!("no monitoring reports in /metrics:\n{t}"));
        let sim = metric(&t, "cloudtwin_sim_time_seconds").expect("simulated time");
        assert!(
            reports >= last && reports.fract() == 0.0,
            "{reports} after {last}"
        );
        assert!(
            reports <= (sim / 2.0).ceil(),
            "{reports} reports at {sim} s"
        );
        let backlog = metric(&t, "cloudtwin_monitoring_backlog").expect("the backlog");
        assert!(
            backlog >= 0.0 && backlog <= reports,
            "{backlog} of {reports}"
        );
        if reports >= 3.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no agent report in {SETTLE_TIMEOUT:?}:\n{t}"
        );
        last = reports;
        thread::sleep(Duration::from_millis(20));
    }
    check_journal(&server.stop());

    let tmp = tempfile::tempdir().unwrap();
    let server = Serve::new(1000.0)
        .set("monitoring.enabled=false")
        .start(tmp.path());
    let t = server.client().send("GET", "/metrics", &[], b"").text;
    assert!(t.contains("cloudtwin_clouds "), "{t}");
    assert!(!t.contains("cloudtwin_monitoring"), "{t}");
    server.stop();
}

/// `--auth` guards every route but the health checks (`cloudtwin serve --help`): `/metrics`
/// too, whose figures (routes, VM counts by provider) are the session's.
#[test]
fn metrics_need_the_credentials_under_auth() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Serve::new(100.0).auth("u", "p").start(tmp.path());
    let a = server.anonymous().send("GET", "/metrics", &[], b"");
    assert_eq!(a.status, 401, "{}", a.text);
    assert_eq!(
        server.client().send("GET", "/metrics", &[], b"").status,
        200
    );
    server.stop();
}

/// A blocking `POST /vm` (Spider since v0.6): meanwhile the VM reads Creating; a forced
/// delete takes it away and the waiting create is answered 500.
#[test]
fn a_blocked_create_reads_creating_until_forced_away() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, c, blocked) = blocked_create(tmp.path());
    c.wait_status("ct1", "vm-01", "Creating");
    assert_eq!(c.state()["api"]["waiting"], 1);
    let conn = json!({"ConnectionName": "ct1"});
    // Busy: no control action, no plain delete; a second create of the name is a duplicate.
    c.fails(
        "GET",
        "/spider/controlvm/vm-01?action=suspend",
        &conn,
        500,
        "cannot suspend",
    );
    c.fails("DELETE", "/spider/vm/vm-01", &conn, 500, "force=true");
    c.fails(
        "POST",
        "/spider/vm",
        &cloudtwin_vm("ct1", "vm-01"),
        500,
        "already exists",
    );
    assert_eq!(
        c.ok("DELETE", "/spider/vm/vm-01?force=true", &conn),
        json!({"Status": "Terminated"})
    );
    let (code, v) = blocked.join().expect("the client thread");
    assert_eq!(code, 500, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("deleted while being created"),
        "{v}"
    );
    assert!(c.statuses("ct1").is_empty());
    assert_eq!(c.state()["api"]["waiting"], 0);
    let out = server.stop();
    check_journal(&out);
    assert_replays(&out);
}

/// `serve.create_returns = "creating"` (Spider v0.5, paired with CB-Tumblebug v0.5): `POST /vm`
/// answers at once, the VM reads Creating, then Running.
#[test]
fn spider_v0_5_create_answers_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    // 2 simulated minutes to boot are 6 s of wall time: long enough to see Creating.
    let server = Serve::new(20.0)
        .set("serve.create_returns=creating")
        .set("lifecycle.providers.cloudtwin.create_failure_p=0")
        .set("lifecycle.providers.cloudtwin.api_delay=1s")
        .set("lifecycle.providers.cloudtwin.boot_time=2m")
        .start(tmp.path());
    let c = server.client();
    cloudtwin_conn(&c, "cloud-1", "ct1");
    let vm = c.ok("POST", "/spider/vm", &cloudtwin_vm("ct1", "vm-01"));
    assert_eq!(vm["IId"]["NameId"], "vm-01");
    assert_eq!(c.state()["api"]["waiting"], 0);
    let st = c.ok(
        "GET",
        "/spider/vmstatus/vm-01",
        &json!({"ConnectionName": "ct1"}),
    );
    assert_eq!(st, json!({"Status": "Creating"}));
    c.wait_status("ct1", "vm-01", "Running");
    let out = server.stop();
    assert_eq!(summary_int(&summary(&out), metric::API_VMS_CREATED), 1);
    assert_replays(&out);
}

// ------------------------------------------------------------------------------------------
// The command line
// ------------------------------------------------------------------------------------------

#[test]
fn serve_refuses_bad_options() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let serve = |extra: &[&str]| {
        let mut c = cloudtwin();
        c.args(["serve", "--listen", "127.0.0.1:0", "--out"])
            .arg(&out)
            .args(extra)
            .env_remove("SPIDER_USERNAME")
            .env_remove("SPIDER_PASSWORD");
        output_of(&mut c)
    };
    for (extra, text) in [
        (&["--speed", "0"][..], "--speed"),
        (&["--speed", "nan"][..], "--speed"),
        (&["--auth", "nocolon"][..], "--auth"),
        (&["--set", "serve.max_vms=x"][..], "max_vms"),
    ] {
        let (code, _, stderr) = serve(extra);
        assert_eq!(code, 2, "{extra:?}: {stderr}");
        assert!(stderr.contains(text), "{extra:?}: {stderr}");
        assert!(!out.exists(), "{extra:?} left a results folder");
    }
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("precious.txt"), "keep").unwrap();
    let (code, _, stderr) = serve(&[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(out.join("precious.txt")).unwrap(),
        "keep"
    );
}
