//! The CB-Dragonfly monitoring model (issue 4), through the library (`scenario::from_str` +
//! `run::simulate`):
//!
//! - queueing validation: Poisson reports and exponential service give the analytic M/M/1 and
//!   M/M/c (Erlang C) mean wait within the run's batch-means 95% confidence interval;
//! - conservation: sent = stored + dropped + in flight at the end, exactly, with every drop cause
//!   exercised (network loss, collector buffer, storage queue), VMs crashing, suspended, resumed
//!   and terminated mid-run, and pull mode;
//! - agents follow their VMs (suspend/resume, crash) and silent agents are declared dead after
//!   `dead_after_rounds` rounds;
//! - collector policies: agentCount (ceil(agents / max_host_count), scale-in back to one
//!   collector), csp (one per provider);
//! - determinism of `monitoring.csv` and the summary; the agent-to-storage delay percentiles;
//! - several sites: each cloud reports to the nearest, each site runs its own collectors and
//!   storage, and one site written as a list is the site.
//!
//! Every scenario makes VMs Running 1 s after t = 0 (no stagger, jitter, API delay, rate limit or
//! create failure), so that the monitoring model alone sets the timings.

mod common;

use cloudtwin::output::names::{file, metric};
use cloudtwin::run::RunOutput;
use common::{col, float, int, num, run_text, table};

/// `[lifecycle]` keys that make every VM Running 1 s after its MCIS request, and every control
/// action take 1 s without API delay or stagger.
const INSTANT_LIFECYCLE: &str = r#"stagger = { mode = "none" }
pre_create_jitter = "0s"
api_delay = "0s"
boot_time = "1s"
suspend_time = "1s"
resume_time = "1s"
reboot_time = "1s"
terminate_time = "1s"
control_stagger = "0s"
api_rate = 0
max_vms_per_region = 100000
create_failure_p = 0
"#;

/// A scenario with the instant lifecycle; `lifecycle` adds keys to `[lifecycle]`, `rest` holds
/// the topology, `[monitoring]` and any `[[actions]]`.
fn scenario(duration: &str, sample: &str, lifecycle: &str, rest: &str) -> String {
    format!(
        "[simulation]\nduration = \"{duration}\"\nsample_interval = \"{sample}\"\n\n\
         [lifecycle]\n{INSTANT_LIFECYCLE}{lifecycle}\n{rest}"
    )
}

/// One column of `monitoring.csv` as (time_s, value) pairs (NaN for an empty cell).
fn series(out: &RunOutput, column: &str) -> Vec<(f64, f64)> {
    let t = table(out, file::MONITORING);
    let i = col(t, column);
    t.rows()
        .iter()
        .map(|r| (num(&r[0]), r[i].parse().unwrap_or(f64::NAN)))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Queueing validation.

/// Agents of the queueing runs, each reporting with exponential gaps of mean 1 s: the superposed
/// arrivals at the collectors are Poisson with lambda = 1000 reports/s.
const QUEUE_AGENTS: u32 = 1000;
const LAMBDA: f64 = QUEUE_AGENTS as f64 / 1.0;

/// Erlang C: the probability that an arrival waits in an M/M/c queue with offered load `a`
/// (Erlang B by its recursion, then C = B / (1 - rho (1 - B))).
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    let rho = a / c as f64;
    b / (1.0 - rho * (1.0 - b))
}

/// Analytic mean wait in queue of M/M/c, in seconds (c = 1: rho / (mu - lambda)).
fn mmc_wait(c: u32, lambda: f64, mu: f64) -> f64 {
    erlang_c(c, lambda / mu) / (c as f64 * mu - lambda)
}

#[test]
fn erlang_c_reference_values() {
    // M/M/1: C = rho, Wq = rho / (mu - lambda).
    assert!((erlang_c(1, 0.8) - 0.8).abs() < 1e-12);
    assert!((mmc_wait(1, 8.0, 10.0) - 0.4).abs() < 1e-12);
    // M/M/2 with a = 1 (rho 0.5): C = 1/3 (textbook value).
    assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
    // M/M/4 with a = 3.2 (rho 0.8): C = 0.5964 (Erlang C tables).
    assert!((erlang_c(4, 3.2) - 0.5964).abs() < 1e-4);
}

/// Runs `c` collectors at utilisation `rho` for `secs` simulated seconds and checks the mean
/// collector wait against M/M/c (one collector: its own queue; several: one shared queue).
fn check_queue(c: u32, rho: f64, secs: u32) {
    // Mean service c rho / lambda; a whole number of microseconds for the rho values used.
    let service_us = (c as f64 * rho / LAMBDA * 1e6).round();
    let mu = 1e6 / service_us;
    let queue = if c == 1 { "per-collector" } else { "shared" };
    let text = scenario(
        &format!("{secs}s"),
        "60s",
        "",
        &format!(
            r#"
[topology]
clouds = [{{ provider = "aws", region = "ap-northeast-2", vms = {QUEUE_AGENTS} }}]

[monitoring]
site = "aws:ap-northeast-2"
interval = "1s"
arrivals = "poisson"
agent_start_delay = "0s"
loss_p = 0.0

[monitoring.collectors]
policy = "fixed"
count = {c}
queue = "{queue}"
server_cores = 8
buffer = 10000000
dead_after_rounds = 1000000
service_time = {{ dist = "exponential", mean = "{service_us}us" }}

[monitoring.storage]
write_capacity = 1e12
batch_points = 1000000
batch_overhead = "0s"
queue_limit = 1000000000000
"#
        ),
    );
    let out = run_text(&text, &[]);
    let wq_ms = mmc_wait(c, LAMBDA, mu) * 1e3;
    let mean = float(&out, metric::COLLECTOR_WAIT_MEAN_MS);
    let ci = float(&out, metric::COLLECTOR_WAIT_CI95_MS);
    // Batch means over 32 batches of a finite run are slightly biased (the batches are
    // correlated, most at rho = 0.95): the interval is widened by 2% of the analytic wait.
    let tolerance = ci + 0.02 * wq_ms;
    eprintln!(
        "M/M/{c} rho {rho}: measured {mean:.4} ms +- {ci:.4} ms (95% CI), analytic {wq_ms:.4} ms, \
         {} reports",
        int(&out, metric::MONITORING_REPORTS_SENT)
    );
    assert_eq!(int(&out, metric::MONITORING_REPORTS_DROPPED), 0);
    assert!(
        ci > 0.0 && ci < 0.15 * wq_ms,
        "M/M/{c} rho {rho}: CI half-width {ci} ms is not a few % of Wq {wq_ms} ms"
    );
    assert!(
        (mean - wq_ms).abs() <= tolerance,
        "M/M/{c} rho {rho}: mean wait {mean} ms, analytic {wq_ms} ms, outside +-{tolerance} ms"
    );
}

/// One test per (c, rho), so the harness spreads them over its threads. Run lengths: at
/// rho = 0.95 about a million customers (a CI half-width of about 7-8% of Wq), fewer at lower
/// loads, which keeps the whole file within ~20 s in a debug build.
macro_rules! queue_tests {
    ($($name:ident: c = $c:expr, rho = $rho:expr, secs = $secs:expr;)*) => {$(
        #[test]
        fn $name() {
            check_queue($c, $rho, $secs);
        }
    )*};
}

queue_tests! {
    mm1_rho_050: c = 1, rho = 0.5, secs = 100;
    mm1_rho_080: c = 1, rho = 0.8, secs = 300;
    mm1_rho_095: c = 1, rho = 0.95, secs = 1000;
    mm2_rho_050: c = 2, rho = 0.5, secs = 100;
    mm2_rho_080: c = 2, rho = 0.8, secs = 300;
    mm2_rho_095: c = 2, rho = 0.95, secs = 1000;
    mm4_rho_050: c = 4, rho = 0.5, secs = 100;
    mm4_rho_080: c = 4, rho = 0.8, secs = 300;
    mm4_rho_095: c = 4, rho = 0.95, secs = 1000;
}

/// Regression test for a bug this file found (fixed): the smallest run that showed it: 1000 agents, mean gap 1 s. The next
/// report of an agent arrives at sent_at + gap + one_way(new), scheduled when the previous one
/// arrives at sent_at + one_way(old); with one-way delays of ~1 ms jittered by sigma 0.03, a gap
/// shorter than one_way(old) - one_way(new) (tens of microseconds) happens about once per
/// 60,000 reports, and the scheduler panics. Periodic arrivals are not affected (gap = interval).
#[test]
fn poisson_arrivals_never_schedule_in_the_past() {
    let text = scenario(
        "120s",
        "60s",
        "",
        r#"
[topology]
clouds = [{ provider = "aws", region = "ap-northeast-2", vms = 1000 }]

[monitoring]
site = "aws:ap-northeast-2"
interval = "1s"
arrivals = "poisson"
agent_start_delay = "0s"
"#,
    );
    let out = run_text(&text, &[]);
    // About 1000 reports/s for 119 s (agents start at 1 s).
    let sent = int(&out, metric::MONITORING_REPORTS_SENT) as f64;
    assert!((sent - 119_000.0).abs() < 0.03 * 119_000.0, "sent {sent}");
}

// ---------------------------------------------------------------------------------------------
// Conservation.

/// Checks sent = stored + dropped + in flight and dropped = network + collector + storage,
/// exactly, and that the `drops` column of monitoring.csv adds up to the drops. Returns the
/// drop counters (network, collector, storage).
fn assert_conserved(name: &str, out: &RunOutput) -> (i64, i64, i64) {
    let sent = int(out, metric::MONITORING_REPORTS_SENT);
    let stored = int(out, metric::MONITORING_REPORTS_STORED);
    let dropped = int(out, metric::MONITORING_REPORTS_DROPPED);
    let in_flight = int(out, metric::MONITORING_IN_FLIGHT_END);
    let net = int(out, metric::MONITORING_DROPPED_NETWORK);
    let col = int(out, metric::MONITORING_DROPPED_COLLECTOR);
    let sto = int(out, metric::MONITORING_DROPPED_STORAGE);
    eprintln!(
        "{name}: sent {sent} stored {stored} dropped {dropped} (network {net}, collector {col}, \
         storage {sto}) in flight {in_flight}"
    );
    assert!(sent > 0 && stored > 0, "{name}: nothing sent or stored");
    assert_eq!(
        sent,
        stored + dropped + in_flight,
        "{name}: sent != stored + dropped + in flight"
    );
    assert_eq!(
        dropped,
        net + col + sto,
        "{name}: drop causes do not add up"
    );
    // The run ends on a sample instant; no drop happens exactly at the horizon.
    let column: f64 = series(out, "drops").iter().map(|(_, v)| v).sum();
    assert_eq!(
        column, dropped as f64,
        "{name}: monitoring.csv drops column"
    );
    (net, col, sto)
}

/// A small storage queue (rounds get dropped) and an MCIS suspended at 200 s, resumed at 300 s
/// and partly terminated at 500 s.
const STORAGE_AND_ACTIONS: &str = r#"
[monitoring.storage]
write_capacity = 2000.0
queue_limit = 400

[[actions]]
at = "200s"
action = "suspend"
mcis = "mcis"

[[actions]]
at = "300s"
action = "resume"
mcis = "mcis"

[[actions]]
at = "500s"
action = "terminate"
mcis = "mcis"
cloud = "gcp:europe-west3"
"#;

const TWO_CLOUDS: &str = r#"
[topology]
clouds = [
  { provider = "aws", region = "ap-northeast-2", vms = 30 },
  { provider = "gcp", region = "europe-west3", vms = 20 },
]
"#;

#[test]
fn conservation_with_network_loss() {
    let out = run_text(
        &scenario(
            "605s",
            "5s",
            "",
            &format!(
                r#"{TWO_CLOUDS}
[monitoring]
interval = "2s"
agent_start_delay = "3s"
loss_p = 0.05
"#
            ),
        ),
        &[],
    );
    let (net, col, sto) = assert_conserved("network loss", &out);
    assert!(net > 0, "loss_p = 0.05 loses reports");
    assert_eq!((col, sto), (0, 0));
    // About 5% of the reports that arrived.
    let sent = int(&out, metric::MONITORING_REPORTS_SENT) as f64;
    assert!(
        (net as f64 / sent - 0.05).abs() < 0.01,
        "lost {net} of {sent}"
    );
    // Reports processed since the last round (600 s) are still waiting for the next one.
    assert!(int(&out, metric::MONITORING_IN_FLIGHT_END) > 0);
}

#[test]
fn conservation_with_collector_overflow() {
    // One collector, a buffer of 2 and a 50 ms mean service for 50 reports/s: overloaded.
    let out = run_text(
        &scenario(
            "605s",
            "5s",
            "",
            &format!(
                r#"{TWO_CLOUDS}
[monitoring]
interval = "1s"
agent_start_delay = "0s"

[monitoring.collectors]
policy = "fixed"
count = 1
buffer = 2
service_time = {{ dist = "exponential", mean = "50ms" }}
"#
            ),
        ),
        &[],
    );
    let (net, col, sto) = assert_conserved("collector overflow", &out);
    assert!(col > 0, "a buffer of 2 overflows");
    assert_eq!((net, sto), (0, 0));
}

#[test]
fn conservation_with_storage_overflow() {
    // 10 collectors of 5 agents each send a 45-point batch per round; the storage queue holds
    // 100 points and writes 100 points/s, so most rounds do not fit.
    let out = run_text(
        &scenario(
            "605s",
            "5s",
            "",
            &format!(
                r#"{TWO_CLOUDS}
[monitoring]
interval = "2s"
agent_start_delay = "0s"
measurements = 9

[monitoring.collectors]
policy = "agentCount"
max_host_count = 5

[monitoring.storage]
write_capacity = 100.0
batch_points = 50
batch_overhead = "10ms"
queue_limit = 100
"#
            ),
        ),
        &[],
    );
    let (net, col, sto) = assert_conserved("storage overflow", &out);
    assert!(sto > 0, "a 100-point storage queue overflows");
    assert_eq!((net, col), (0, 0));
}

/// Storage dropped reports when one write takes exactly one round (`write` after it starts):
/// each round's only batch fills the queue (`queue_limit` = the round's points), so the next
/// round fits only if that write is done before the round is handled.
fn storage_drops_when_a_write_takes(write: &str) -> i64 {
    let out = run_text(
        &scenario(
            "305s",
            "5s",
            "",
            &format!(
                r#"{TWO_CLOUDS}
[monitoring]
interval = "2s"
agent_start_delay = "0s"
measurements = 2

[monitoring.collectors]
policy = "fixed"
count = 1
interval = "10s"

[monitoring.storage]
write_capacity = 1e18
batch_points = 1000
batch_overhead = "{write}"
queue_limit = 100
"#
            ),
        ),
        &[],
    );
    assert_conserved(write, &out).2
}

/// A write that ends at a round's instant was started before that round was scheduled (by the
/// round before), so the engine handles its completion first: the queue is free again and no
/// round is dropped. A nanosecond later, every other round is (the control: the test can fail).
#[test]
fn storage_write_ending_at_a_round_instant_is_done_before_that_round() {
    assert_eq!(storage_drops_when_a_write_takes("10s"), 0);
    assert!(storage_drops_when_a_write_takes("10000000001ns") > 0);
}

#[test]
fn conservation_with_crashes_and_control_actions() {
    // VMs crash; the MCIS is suspended and resumed; one cloud is terminated. Per-collector
    // queues are kept busy (0.3 s mean service for 2.5 reports/s per collector) so that the
    // agentCount scale-in after the terminate moves queued messages.
    let out = run_text(
        &scenario(
            "905s",
            "5s",
            r#"crash = { dist = "exponential", mean = "1500s" }"#,
            &format!(
                r#"{TWO_CLOUDS}
[monitoring]
interval = "2s"
agent_start_delay = "5s"
loss_p = 0.02

[monitoring.collectors]
policy = "agentCount"
max_host_count = 5
service_time = {{ dist = "exponential", mean = "300ms" }}
buffer = 3

{STORAGE_AND_ACTIONS}"#
            ),
        ),
        &[],
    );
    let (net, col, sto) = assert_conserved("crashes and actions", &out);
    assert!(net > 0 && col > 0 && sto > 0, "every drop cause occurs");
    assert!(int(&out, metric::VM_CRASHES) > 0, "some VMs crash");
    assert!(int(&out, metric::CONTROL_ACTIONS) > 0);
    assert!(
        int(&out, metric::AGENTS_DECLARED_DEAD) > 0,
        "silent agents declared dead"
    );
    let collectors = series(&out, "collectors");
    let max = int(&out, metric::COLLECTOR_COUNT_MAX) as f64;
    assert!(
        collectors.last().unwrap().1 < max,
        "collectors scale in after the terminate: {collectors:?}"
    );
}

#[test]
fn conservation_in_pull_mode() {
    let out = run_text(
        &scenario(
            "605s",
            "5s",
            r#"crash = { dist = "exponential", mean = "2000s" }"#,
            &format!(
                r#"{TWO_CLOUDS}
[monitoring]
mode = "pull"
pull_interval = "10s"
agent_start_delay = "5s"
loss_p = 0.05

[monitoring.storage]
write_capacity = 2000.0
queue_limit = 200

[[actions]]
at = "200s"
action = "suspend"
mcis = "mcis"
cloud = "aws:ap-northeast-2"
"#
            ),
        ),
        &[],
    );
    let (net, _, sto) = assert_conserved("pull mode", &out);
    assert!(net > 0 && sto > 0);
    assert!(
        int(&out, metric::PULL_FAILURES) > 0,
        "suspended agents fail polls"
    );
    // Every poll of an answering agent is one report: 50 agents for ~60 polls at most.
    let sent = int(&out, metric::MONITORING_REPORTS_SENT);
    assert!(sent <= 50 * 60, "sent {sent}");
}

// ---------------------------------------------------------------------------------------------
// Agents follow their VMs.

/// `reports_in_per_s` x the sample interval: reports that reached the site in each window.
fn reports_per_window(out: &RunOutput, window_s: f64) -> Vec<(f64, f64)> {
    series(out, "reports_in_per_s")
        .into_iter()
        .map(|(t, r)| (t, (r * window_s).round()))
        .collect()
}

#[test]
fn agents_stop_on_suspend_and_restart_on_resume_without_reinstall() {
    // 20 agents every 5 s, installed 60 s after boot (Running at 1 s); suspend at 202 s,
    // resume at 402 s (Running again at 403 s).
    let out = run_text(
        &scenario(
            "500s",
            "5s",
            "",
            r#"
[topology]
clouds = [{ provider = "aws", region = "ap-northeast-2", vms = 20 }]

[monitoring]
interval = "5s"
agent_start_delay = "60s"

[[actions]]
at = "202s"
action = "suspend"
mcis = "mcis"

[[actions]]
at = "402s"
action = "resume"
mcis = "mcis"
"#,
        ),
        &[],
    );
    let counts = reports_per_window(&out, 5.0);
    let active = series(&out, "agents_active");
    for (&(t, n), &(_, a)) in counts.iter().zip(&active) {
        let (want_n, want_a) = if t <= 60.0 {
            (0.0, 0.0) // agents not installed yet
        } else if (70.0..=200.0).contains(&t) || t >= 410.0 {
            (20.0, 20.0) // one report per agent per 5 s window
        } else if (210.0..=400.0).contains(&t) {
            (0.0, 0.0) // suspended: nothing sent after 202 s, nothing in flight after 205 s
        } else {
            continue; // windows holding a start, the suspend or the resume
        };
        assert!(
            (n - want_n).abs() <= 1.0,
            "t = {t}: {n} reports, expected {want_n}: {counts:?}"
        );
        assert_eq!(a, want_a, "t = {t}: agents_active");
    }
    // The agent is already installed: reporting resumes right after Running (403 s), not after
    // another agent_start_delay (which would leave 405 s..463 s silent).
    let at = |time: f64| counts.iter().find(|(t, _)| *t == time).unwrap().1;
    assert!(at(405.0) > 0.0, "reports in (400 s, 405 s]: {counts:?}");
    assert!(
        at(205.0) <= 20.0,
        "at most one report per agent after 200 s"
    );
    assert_eq!(active.iter().find(|(t, _)| *t == 405.0).unwrap().1, 20.0);
}

#[test]
fn agents_of_crashed_vms_stop() {
    let out = run_text(
        &scenario(
            "900s",
            "5s",
            r#"crash = { dist = "exponential", mean = "600s" }"#,
            r#"
[topology]
clouds = [{ provider = "aws", region = "ap-northeast-2", vms = 40 }]

[monitoring]
interval = "5s"
agent_start_delay = "0s"
"#,
        ),
        &[],
    );
    let crashes = int(&out, metric::VM_CRASHES);
    assert!(crashes > 0 && crashes < 40, "{crashes} crashes");
    let active = series(&out, "agents_active");
    let counts = reports_per_window(&out, 5.0);
    assert_eq!(active.last().unwrap().1, (40 - crashes) as f64);
    assert_eq!(
        active.last().unwrap().1,
        int(&out, metric::VMS_RUNNING_END) as f64
    );
    for i in 2..active.len() {
        let (t, a) = active[i];
        let before = active[i - 1].1;
        assert!(
            a <= before,
            "t = {t}: agents_active rose from {before} to {a}"
        );
        // Agents active through the window send one report each; crashed ones none (but a
        // report sent just before its VM crashed still arrives).
        let n = counts[i].1;
        assert!(
            n >= a - 1.0 && n <= before + 1.0,
            "t = {t}: {n} reports with {before} -> {a} agents active"
        );
    }
    assert!(
        counts.last().unwrap().1 < 40.0 - 1.0,
        "the report rate falls with the crashes"
    );
}

/// Two clouds; the second (6 VMs) is suspended at 205 s, mid-way through the round that ends
/// at 210 s. Its agents' last reports arrive in that round, so the silent rounds are the ones
/// ending at 220 s, 230 s, ...: they are declared dead at 210 + 10 x `dead_after_rounds` s.
fn dead_agents(dead_after_rounds: u32, duration_s: u32) -> RunOutput {
    run_text(
        &scenario(
            &format!("{duration_s}s"),
            "5s",
            "",
            &format!(
                r#"
[topology]
clouds = [
  {{ provider = "aws", region = "ap-northeast-2", vms = 10 }},
  {{ provider = "gcp", region = "europe-west3", vms = 6 }},
]

[monitoring]
interval = "5s"
agent_start_delay = "0s"

[monitoring.collectors]
interval = "10s"
dead_after_rounds = {dead_after_rounds}

[[actions]]
at = "205s"
action = "suspend"
mcis = "mcis"
cloud = "gcp:europe-west3"
"#
            ),
        ),
        &[],
    )
}

#[test]
fn silent_agents_are_declared_dead_after_dead_after_rounds() {
    for rounds in [3u32, 5] {
        let declared_at = 210 + 10 * rounds;
        let before = dead_agents(rounds, declared_at - 5);
        assert_eq!(
            int(&before, metric::AGENTS_DECLARED_DEAD),
            0,
            "dead_after_rounds = {rounds}: none dead at {} s",
            declared_at - 5
        );
        let after = dead_agents(rounds, declared_at + 5);
        assert_eq!(
            int(&after, metric::AGENTS_DECLARED_DEAD),
            6,
            "dead_after_rounds = {rounds}: the 6 suspended agents dead at {declared_at} s"
        );
        assert_eq!(int(&after, metric::VMS_SUSPENDED_END), 6);
    }
}

// ---------------------------------------------------------------------------------------------
// Collector policies.

fn policy_run(clouds: &str, collectors: &str, duration: &str, actions: &str) -> RunOutput {
    run_text(
        &scenario(
            duration,
            "5s",
            "",
            &format!(
                r#"
[topology]
{clouds}

[monitoring]
interval = "5s"
agent_start_delay = "0s"

[monitoring.collectors]
{collectors}
{actions}"#
            ),
        ),
        &[],
    )
}

#[test]
fn agent_count_policy_runs_ceil_agents_over_max_host_count_collectors() {
    for (agents, max) in [
        (1u32, 5u32),
        (5, 5),
        (6, 5),
        (23, 5),
        (40, 7),
        (100, 10),
        (101, 10),
    ] {
        let out = policy_run(
            &format!(
                r#"clouds = [{{ provider = "aws", region = "ap-northeast-2", vms = {agents} }}]"#
            ),
            &format!("policy = \"agentCount\"\nmax_host_count = {max}"),
            "60s",
            "",
        );
        let want = agents.div_ceil(max) as i64;
        assert_eq!(
            int(&out, metric::COLLECTOR_COUNT_MAX),
            want,
            "{agents} agents, max_host_count {max}"
        );
        // Every agent has reported by 10 s and none dies: the count holds from then on.
        for (t, c) in series(&out, "collectors") {
            if t >= 10.0 {
                assert_eq!(
                    c, want as f64,
                    "{agents} agents / {max}: collectors at {t} s"
                );
            }
        }
    }
}

#[test]
fn agent_count_policy_scales_in_after_a_terminate() {
    // 23 agents / 5 = 5 collectors; terminated at 205 s, after every agent's report of
    // (200 s, 205 s] (one each, every 5 s): silent in the rounds ending at 220 s, 230 s and
    // 240 s, declared dead in the round at 240 s, which scales in to one collector. (The row at
    // 240 s is not checked: the sample and the round fall on the same instant.)
    let out = policy_run(
        r#"clouds = [{ provider = "aws", region = "ap-northeast-2", vms = 23 }]"#,
        "policy = \"agentCount\"\nmax_host_count = 5\ninterval = \"10s\"\ndead_after_rounds = 3",
        "300s",
        "[[actions]]\nat = \"205s\"\naction = \"terminate\"\nmcis = \"mcis\"\n",
    );
    assert_eq!(int(&out, metric::COLLECTOR_COUNT_MAX), 5);
    assert_eq!(int(&out, metric::AGENTS_DECLARED_DEAD), 23);
    let collectors = series(&out, "collectors");
    for &(t, c) in &collectors {
        if (10.0..=235.0).contains(&t) {
            assert_eq!(
                c, 5.0,
                "collectors at {t} s before the scale-in: {collectors:?}"
            );
        } else if t >= 245.0 {
            assert_eq!(
                c, 1.0,
                "collectors at {t} s after the scale-in: {collectors:?}"
            );
        }
    }
}

#[test]
fn csp_policy_runs_one_collector_per_provider() {
    for (clouds, providers) in [
        (
            r#"clouds = ["aws:ap-northeast-2", "gcp:asia-northeast3", "azure:koreacentral"]"#,
            3,
        ),
        (
            "vms_per_cloud = 3\nmix = { aws = 2, gcp = 1, azure = 3, alibaba = 1 }",
            4,
        ),
        (r#"clouds = ["aws:ap-northeast-2", "aws:us-east-1"]"#, 1),
    ] {
        let out = policy_run(clouds, "policy = \"csp\"", "60s", "");
        assert_eq!(
            int(&out, metric::COLLECTOR_COUNT_MAX),
            providers,
            "{clouds}"
        );
        for (t, c) in series(&out, "collectors") {
            assert_eq!(c, providers as f64, "{clouds}: collectors at {t} s");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Determinism and delays.

#[test]
fn same_scenario_gives_identical_monitoring_csv_and_summary() {
    let text = scenario(
        "10m",
        "10s",
        r#"crash = { dist = "exponential", mean = "2000s" }"#,
        r#"
[topology]
vms_per_cloud = 8
mix = { aws = 2, gcp = 2, azure = 1 }

[monitoring]
interval = "3s"
agent_start_delay = { dist = "uniform", min = "5s", max = "30s" }
loss_p = 0.03

[monitoring.collectors]
service_time = { dist = "exponential", mean = "5ms" }

[[actions]]
at = "300s"
action = "suspend"
mcis = "mcis"
"#,
    );
    let (a, b) = (run_text(&text, &[]), run_text(&text, &[]));
    assert!(int(&a, metric::MONITORING_REPORTS_SENT) > 0);
    assert_eq!(a.summary.to_csv(), b.summary.to_csv(), "summary differs");
    assert!(
        table(&a, file::MONITORING).to_csv() == table(&b, file::MONITORING).to_csv(),
        "monitoring.csv differs"
    );
    assert!(table(&a, file::MONITORING).len() > 50);
}

#[test]
fn delay_percentiles_follow_the_aggregation_round() {
    // 50 agents every 5 s next to the monitoring site, 10 collectors (agentCount, 5 each),
    // rounds every 10 s, storage far faster than needed.
    const AGENTS: f64 = 50.0;
    const ROUND_MS: f64 = 10_000.0;
    const SERVICE_MS: f64 = 0.2;
    const CORES: f64 = 4.0;
    const COLLECTORS: f64 = 10.0;
    const BATCH_OVERHEAD_MS: f64 = 1.0;
    const WRITE_CAPACITY: f64 = 1e6;
    const MEASUREMENTS: f64 = 9.0;
    let out = run_text(
        &scenario(
            "600s",
            "10s",
            "",
            r#"
[topology]
clouds = [{ provider = "aws", region = "ap-northeast-2", vms = 50 }]

[monitoring]
site = "aws:ap-northeast-2"
interval = "5s"
arrivals = "periodic"
agent_start_delay = "0s"
measurements = 9

[monitoring.collectors]
policy = "agentCount"
max_host_count = 5
interval = "10s"
service_time = "200us"
server_cores = 4

[monitoring.storage]
write_capacity = 1e6
batch_points = 5000
batch_overhead = "1ms"
"#,
        ),
        &[],
    );
    let p50 = float(&out, metric::MONITORING_DELAY_P50_MS);
    let p95 = float(&out, metric::MONITORING_DELAY_P95_MS);
    let p99 = float(&out, metric::MONITORING_DELAY_P99_MS);
    eprintln!("delay p50 {p50} ms, p95 {p95} ms, p99 {p99} ms");
    // A report waits for the end of its round: about U(0, 10 s) plus milliseconds.
    assert!((2_000.0..=8_000.0).contains(&p50), "p50 {p50} ms");
    assert!(p50 <= p95 && p95 <= p99, "{p50} <= {p95} <= {p99}");
    // Upper bound from the model: a whole round, plus the one-way delay (1 ms median on a
    // same-region path; 50 ms allowed for any latency model), plus every agent's message ahead
    // in the collector with service stretched by (all agents busy) / cores, plus the storage
    // writing every collector's batch of the round, plus the histogram's 3-digit resolution.
    let network_ms = 50.0;
    let collector_ms = AGENTS * SERVICE_MS * (AGENTS / CORES);
    let storage_ms = COLLECTORS
        * (BATCH_OVERHEAD_MS + AGENTS / COLLECTORS * MEASUREMENTS / WRITE_CAPACITY * 1e3);
    let bound = (ROUND_MS + network_ms + collector_ms + storage_ms) * 1.001;
    assert!(p99 <= bound, "p99 {p99} ms > bound {bound} ms");
    // The delays spread over the whole round: the slowest 1% waited most of it.
    assert!(p99 >= 0.9 * ROUND_MS, "p99 {p99} ms");
    assert_eq!(int(&out, metric::MONITORING_REPORTS_DROPPED), 0);
}

/// Runs `text` with collector services computed inline (Lindley's recursion) and as events:
/// every table and summary value is the same, except the engine's own event counts.
fn assert_inline_service_is_exact(label: &str, text: &str) -> RunOutput {
    let inline = run_text(&text.replace("INLINE", "true"), &[]);
    let events = run_text(&text.replace("INLINE", "false"), &[]);
    assert!(
        inline.events < events.events,
        "{label}: the shortcut is taken ({} vs {} events)",
        inline.events,
        events.events
    );
    let engine_counts = [metric::EVENTS_PROCESSED, metric::MAX_PENDING_EVENTS];
    for ((m, a), (m2, b)) in inline.summary.rows().iter().zip(events.summary.rows()) {
        assert_eq!(m, m2);
        if !engine_counts.contains(&m.as_str()) {
            assert_eq!(a.to_string(), b.to_string(), "{label}: summary {m}");
        }
    }
    assert_eq!(inline.tables.len(), events.tables.len());
    for (a, b) in inline.tables.iter().zip(&events.tables) {
        if a.name != file::ENGINE {
            assert!(a.to_csv() == b.to_csv(), "{label}: {} differs", a.name);
        }
    }
    inline
}

#[test]
fn inline_service_equals_simulated_completions() {
    // Overloaded fixed collectors (a buffer of 3: drops), network loss, storage drops,
    // crashes, suspend/resume and a terminate (agents stop and restart, some are declared
    // dead and re-register), Poisson reports: every corner the shortcut must get right.
    let stressed = |collectors: &str| {
        scenario(
            "905s",
            "5s",
            r#"crash = { dist = "exponential", mean = "1500s" }"#,
            &format!(
                r#"{TWO_CLOUDS}
[monitoring]
interval = "2s"
arrivals = "poisson"
agent_start_delay = "5s"
loss_p = 0.02
inline_service = INLINE

[monitoring.collectors]
{collectors}
dead_after_rounds = 1

{STORAGE_AND_ACTIONS}"#
            ),
        )
    };
    let out = assert_inline_service_is_exact(
        "fixed",
        &stressed(
            r#"policy = "fixed"
count = 3
server_cores = 4
service_time = { dist = "exponential", mean = "100ms" }
buffer = 3"#,
        ),
    );
    let (net, col, sto) = assert_conserved("inline service", &out);
    assert!(net > 0 && col > 0 && sto > 0, "every drop cause occurs");
    assert!(int(&out, metric::AGENTS_DECLARED_DEAD) > 0);
    assert!(int(&out, metric::VM_CRASHES) > 0);
    // Dragonfly's default policy: agentCount collectors (4 topics each, 13 of them) on 2
    // cores, so CPU contention couples them; crashes, suspend/resume and a terminate get agents
    // declared dead and collectors retired with their queued messages moved. The collectors
    // keep their own completions (`collectors::deferred`).
    let out = assert_inline_service_is_exact(
        "agentCount",
        &stressed(
            r#"policy = "agentCount"
max_host_count = 4
server_cores = 2
service_time = { dist = "exponential", mean = "150ms" }
buffer = 4"#,
        ),
    );
    let (net, col, sto) = assert_conserved("deferred completions", &out);
    assert!(net > 0 && col > 0 && sto > 0, "every drop cause occurs");
    assert!(int(&out, metric::AGENTS_DECLARED_DEAD) > 0);
    assert!(
        int(&out, metric::COLLECTOR_COUNT_MAX) > 2,
        "more collectors than cores"
    );
    // Pull mode: the server polls, each answer costs `pull_calls` services.
    assert_inline_service_is_exact(
        "pull",
        &scenario(
            "305s",
            "5s",
            "",
            &format!(
                r#"{TWO_CLOUDS}
[monitoring]
mode = "pull"
pull_interval = "3s"
pull_calls = 2
agent_start_delay = "0s"
inline_service = INLINE

[monitoring.collectors]
policy = "agentCount"
max_host_count = 10
server_cores = 1
service_time = "10ms"
buffer = 5
"#
            ),
        ),
    );
    // One collector per provider; periodic reports and a constant service time, so
    // arrivals and completions fall on the same instants (ties between events).
    assert_inline_service_is_exact(
        "csp",
        &scenario(
            "605s",
            "1s",
            "",
            &format!(
                r#"{TWO_CLOUDS}
[monitoring]
interval = "1s"
agent_start_delay = "0s"
inline_service = INLINE

[monitoring.collectors]
policy = "csp"
interval = "1s"
service_time = "20ms"
buffer = 5
"#
            ),
        ),
    );
}

// ---------------------------------------------------------------------------------------------
// Several sites.

/// Clouds in Seoul, Frankfurt and Virginia with 7, 8 and 9 VMs.
const THREE_CONTINENTS: &str = r#"
[topology]
clouds = [
  { provider = "aws", region = "ap-northeast-2", vms = 7 },
  { provider = "gcp", region = "europe-west3", vms = 8 },
  { provider = "aws", region = "us-east-1", vms = 9 },
]
"#;

/// `[monitoring]` with agentCount's five topics per collector, at `site`.
fn five_per_collector(site: &str) -> String {
    scenario(
        "305s",
        "5s",
        "",
        &format!(
            r#"{THREE_CONTINENTS}
[monitoring]
interval = "2s"
agent_start_delay = "3s"
loss_p = 0.02
site = {site}
[monitoring.collectors]
policy = "agentCount"
max_host_count = 5
"#
        ),
    )
}

#[test]
fn each_cloud_reports_to_its_nearest_site_which_runs_its_own_collectors() {
    let sites = r#"["aws:us-east-1", "gcp:europe-west4", "aws:ap-northeast-1"]"#;
    let text = five_per_collector(sites);
    let loaded = common::load_text(&text, &[]);
    // Seoul to Tokyo, Frankfurt to the Netherlands, Virginia to Virginia.
    assert_eq!(loaded.monitoring.cloud_site, [2, 1, 0]);
    let per_site: Vec<u32> = loaded.monitoring.sites.iter().map(|s| s.agents).collect();
    assert_eq!(per_site, [9, 8, 7]);
    let three = common::run_loaded(&loaded);
    assert_conserved("three sites", &three);
    // agentCount per site: 2 + 2 + 2 collectors for 9, 8 and 7 agents; one site needs 5.
    assert_eq!(int(&three, metric::COLLECTOR_COUNT_MAX), 6);
    let one = run_text(&five_per_collector(r#""aws:us-east-1""#), &[]);
    assert_conserved("one site", &one);
    assert_eq!(int(&one, metric::COLLECTOR_COUNT_MAX), 5);
    // The same reports leave the agents (their phases and gaps are the agents' own); the
    // nearer sites hear them sooner.
    assert_eq!(
        int(&three, metric::MONITORING_REPORTS_SENT),
        int(&one, metric::MONITORING_REPORTS_SENT)
    );
    // Over all sites' server cores: three sites have three times one site's.
    let cpu =
        |out: &RunOutput| -> f64 { series(out, "server_cpu_pct").iter().map(|(_, v)| v).sum() };
    let ratio = cpu(&one) / cpu(&three);
    assert!(
        (ratio - 3.0).abs() < 0.3,
        "cpu% one site / three sites = {ratio}"
    );
}

#[test]
fn one_site_written_as_a_list_is_that_site() {
    let a = run_text(&five_per_collector(r#""gcp:europe-west4""#), &[]);
    let b = run_text(&five_per_collector(r#"["gcp:europe-west4"]"#), &[]);
    assert_eq!(a.summary.to_csv(), b.summary.to_csv());
    for (x, y) in a.tables.iter().zip(&b.tables) {
        assert!(x.to_csv() == y.to_csv(), "{} differs", x.name);
    }
}
