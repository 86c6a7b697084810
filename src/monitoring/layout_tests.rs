//! The agents' layout in report order (`agents::Agents::lay_out`) moves where each agent's
//! state lives, on both sides (`slots.rs`), and renames the slots its pending reports and
//! held messages point at; nothing else. The same
//! monitoring run, with agents that stop and restart (withdrawn reports, new phases), network
//! jitter and loss, agents declared dead and collectors retired, must give the same summary
//! and tables whether the agents are never laid out or laid out at every aggregation round,
//! with the collecting side on the engine's thread or its own (which then follows the layout
//! through the pipe), for each way collectors serve, with one site or several (each site's
//! topics staying on its own collectors as they are retired and moved).

use super::agents::Layout;
use super::harness::{Ev, Harness, Shape, plan};
use crate::engine::{RunControl, Scheduler, SimDuration, SimTime};
use crate::model::Results;
use crate::monitoring::MonitoringSpec;
use crate::monitoring::plan::{PathDelay, Plan, SitePlan};
use crate::output::Summary;

/// A monitoring set-up to lay out.
#[derive(Copy, Clone, Debug)]
enum Case {
    /// agentCount with deferred completions: agents declared dead and collectors retired,
    /// their topics moved (in id order) and their queued messages with them.
    AgentCountDeferred,
    /// csp with services computed on arrival (messages held ahead of their completion).
    CspInline,
    /// agentCount with every service an engine event (the collecting side stays on the
    /// engine's thread).
    AgentCountEvents,
}

/// Runs 300 agents on three paths (clouds) for 10 simulated minutes, the clouds reporting to
/// `sites` sites in turn, the collecting side on a thread of its own when `apart`; returns the
/// layouts made, the engine's events, the summary and the monitoring table.
fn run(case: Case, sites: u32, layout: Layout, apart: bool) -> (u32, u64, String, Vec<u8>) {
    // As many collectors over all sites as on one.
    let policy = match case {
        Case::AgentCountDeferred | Case::AgentCountEvents => format!(
            r#"policy = "agentCount"
            max_host_count = {}"#,
            40 / sites
        ),
        Case::CspInline => r#"policy = "csp""#.to_string(),
    };
    let spec: MonitoringSpec = toml::from_str(&format!(
        r#"
        interval = "5s"
        agent_start_delay = "2s"
        loss_p = 0.05
        [collectors]
        {policy}
        server_cores = 2
        interval = "10s"
        dead_after_rounds = 2
        # Busy collectors: 60 reports a second of 25 ms on 2 cores. Messages wait (so which
        # collector a topic is on shows), and some are queued when a round comes.
        service_time = "25ms"
        "#
    ))
    .expect("spec");
    let agents = 300u32;
    let paths = [(0.002, 0.5), (0.040, 2.0), (0.120, 1.0)]
        .map(|(median_s, jitter)| PathDelay {
            median_s,
            jitter,
            floor_s: median_s / 2.0,
        })
        .to_vec();
    let horizon = SimTime::from_secs(600);
    let plan = plan(
        spec,
        Shape {
            agents,
            paths,
            collectors: match case {
                Case::CspInline => (2, 2),
                _ => (agents.div_ceil(40), 1),
            },
            inline_service: matches!(case, Case::CspInline),
            deferred_completions: matches!(case, Case::AgentCountDeferred),
            seed: 11,
            horizon,
        },
    );
    let plan = with_sites(plan, sites);
    let mut s = Scheduler::new();
    let mut h = Harness::new(&plan, &mut s, SimDuration::from_secs(7));
    h.m.set_layout(layout);
    if apart {
        assert!(h.m.run_apart(None), "a thread for the collecting side");
    }
    // One agent in ten keeps flipping: down for a while, up for longer, each at its own
    // pace; three in ten go down for long enough to be declared dead (and the agentCount
    // policy to retire collectors), again and again. The others stay up.
    h.flips = |agent, up| {
        let after = match (agent % 10, up) {
            (0, true) => 37 + agent % 11,
            (0, false) => 5 + agent % 7,
            (5..=7, true) => 60 + agent % 13,
            (5..=7, false) => 30 + agent % 17,
            _ => return None,
        };
        Some(SimDuration::from_secs(u64::from(after)))
    };
    let flippers = s.alloc_entities(agents);
    for a in 0..agents {
        // VMs come up over the first minute.
        let at = SimTime::from_secs(u64::from(a % 60));
        s.post_at(at, flippers.get(a), Ev::Flip(a));
    }
    let out = s.run_until(&mut h, horizon, &mut RunControl::none());
    h.m.finish(out.end);
    h.m.check_sites();
    let c = h.m.counts().expect("read after the finish");
    assert!(c.sent > 30_000 && c.dropped_network > 0, "{c:?}");
    assert!(c.agents_declared_dead > 0, "{c:?}");
    let (wait, _) = h.m.wait_mean_ci().expect("read after the finish");
    assert!(wait > 0.0, "messages wait at the collectors");
    let mut sum = Summary::new();
    h.m.summarize(&mut sum, out.end);
    let series = h.m.take_tables().remove(0).to_csv();
    (h.m.layouts(), out.events, sum.to_csv(), series)
}

/// `plan` with its clouds reporting to `sites` sites in turn (cloud `c` to site `c mod
/// sites`), each sized for its agents.
fn with_sites(mut plan: Plan, sites: u32) -> Plan {
    for (c, site) in plan.cloud_site.iter_mut().enumerate() {
        *site = c as u32 % sites;
    }
    let region = plan.sites[0].region.clone();
    let mut one = plan.sites[0].clone();
    plan.sites = (0..sites)
        .map(|k| {
            let n = plan.agents.iter().filter(|a| plan.site_of(a) == k).count() as u32;
            let sized = SitePlan::sized(&plan.spec, region.clone(), n, plan.providers);
            // The case's own choice of service, at every site.
            one.agents = n;
            one.max_collectors = sized.max_collectors;
            one.initial_collectors = sized.initial_collectors;
            one.clone()
        })
        .collect();
    plan.max_collectors = plan.sites.iter().map(|s| s.max_collectors).sum();
    plan
}

#[test]
fn laying_the_agents_out_changes_no_result() {
    for (case, sites) in [
        (Case::AgentCountDeferred, 1),
        (Case::CspInline, 1),
        (Case::AgentCountEvents, 1),
        (Case::AgentCountDeferred, 3),
        (Case::CspInline, 2),
        (Case::AgentCountEvents, 3),
    ] {
        let run = |case, layout, apart| run(case, sites, layout, apart);
        let case = (case, sites);
        let can_run_apart = !matches!(case.0, Case::AgentCountEvents);
        let (never, ev_never, sum_never, series_never) = run(case.0, Layout::Never, false);
        assert_eq!(never, 0);
        if !matches!(case.0, Case::CspInline) {
            assert!(
                collectors_retired(&series_never),
                "{case:?}: agentCount retires collectors (their topics move in id order)"
            );
        }
        let same = |(layouts, ev, sum, series): (u32, u64, String, Vec<u8>), what: &str| {
            assert_eq!(ev, ev_never, "{case:?}, {what}: events");
            assert_eq!(sum, sum_never, "{case:?}, {what}: summary");
            assert!(series == series_never, "{case:?}, {what}: monitoring.csv");
            layouts
        };
        let every = same(run(case.0, Layout::EveryRound, false), "every round");
        assert_eq!(every, 60, "one layout per 10 s round over 10 minutes");
        let here = same(
            run(case.0, Layout::WhenSettled, false),
            "default, one thread",
        );
        assert!(here >= 1, "the default lays out once the starts settle");
        if can_run_apart {
            let every = same(run(case.0, Layout::EveryRound, true), "every round, apart");
            assert_eq!(every, 60);
            let apart = same(run(case.0, Layout::WhenSettled, true), "default, apart");
            assert_eq!(apart, here, "the same layouts on either thread");
        }
    }
}

/// Whether `monitoring.csv` shows fewer collectors in a sample than in the one before.
fn collectors_retired(series: &[u8]) -> bool {
    let text = std::str::from_utf8(series).expect("utf-8");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "collectors")
        .expect("a collectors column");
    let counts: Vec<u32> = lines
        .map(|l| {
            l.split(',')
                .nth(col)
                .expect("a field")
                .parse()
                .expect("a count")
        })
        .collect();
    counts.windows(2).any(|w| w[1] < w[0])
}

/// A scale-out VM's agent reports to the site of the cloud it is placed on, not to that of
/// the cloud its slot was reserved with.
#[test]
fn a_placed_agent_reports_to_its_new_clouds_site() {
    let spec: MonitoringSpec = toml::from_str(
        r#"
        interval = "5s"
        agent_start_delay = "2s"
        [collectors]
        policy = "agentCount"
        max_host_count = 7
        "#,
    )
    .expect("spec");
    let path = PathDelay {
        median_s: 0.01,
        jitter: 0.5,
        floor_s: 0.005,
    };
    let horizon = SimTime::from_secs(60);
    // 30 agents on three clouds (agent i on cloud i mod 3): clouds 0 and 2 report to site 0,
    // cloud 1 to site 1.
    let shape = Shape {
        agents: 30,
        paths: vec![path; 3],
        collectors: (30u32.div_ceil(7), 1),
        inline_service: false,
        deferred_completions: true,
        seed: 3,
        horizon,
    };
    let plan = with_sites(plan(spec, shape), 2);
    for placed in [false, true] {
        let mut s = Scheduler::new();
        let mut h = Harness::new(&plan, &mut s, SimDuration::from_secs(7));
        if placed {
            // Agents 0 and 3 (cloud 0, site 0) are placed on cloud 1 before they start.
            h.m.place_agent(0, 1, 0);
            h.m.place_agent(3, 1, 1);
        }
        for a in 0..30 {
            h.m.vm_running(&mut s, a);
        }
        let out = s.run_until(&mut h, horizon, &mut RunControl::none());
        h.m.finish(out.end);
        h.m.check_sites();
        let expected = if placed { [18, 12] } else { [20, 10] };
        assert_eq!(h.m.registered_per_site(), expected, "placed: {placed}");
    }
}
