//! The collector shortcuts ([`super::inline`], [`super::deferred`]) decide same-instant ties
//! exactly as simulated completions do: the same model runs with each completion an engine
//! event and with the shortcut, on a nanosecond grid where arrivals, completions, rounds and
//! samples keep landing on the same instant, and every table and summary value must agree.

use crate::engine::{RunControl, Scheduler, SimDuration, SimTime};
use crate::model::Results;
use crate::monitoring::MonitoringSpec;
use crate::monitoring::harness::{Harness, Shape, plan};
use crate::monitoring::plan::PathDelay;
use crate::output::Summary;

#[derive(Copy, Clone, PartialEq, Debug)]
enum Completions {
    Events,
    Inline,
    Deferred,
}

/// Runs `agents` agents reporting every 4 ns into the `collectors` section (with
/// `max`/`initial` collectors, as the plan would resolve them); returns the engine's event
/// count, the summary and the monitoring table.
fn run(
    how: Completions,
    agents: u32,
    service: &str,
    collectors: &str,
    (max, initial): (u32, u32),
    loss_p: f64,
) -> (u64, String, Vec<u8>) {
    // Zero network delay and a 4 ns report interval: reports arrive on a grid of whole
    // nanoseconds, services of whole nanoseconds end on it too, and rounds (10 ns) and samples
    // (5 ns) fall on it.
    let shortcut = how != Completions::Events;
    let spec: MonitoringSpec = toml::from_str(&format!(
        r#"
        interval = "4ns"
        agent_start_delay = "0s"
        inline_service = {shortcut}
        loss_p = {loss_p}
        [collectors]
        {collectors}
        interval = "10ns"
        service_time = {service}
        buffer = 1
        dead_after_rounds = 1
        "#
    ))
    .expect("spec");
    let mut s = Scheduler::new();
    let path = PathDelay {
        median_s: 0.0,
        jitter: 0.0,
        floor_s: 0.0,
    };
    let horizon = SimTime(10_000);
    let plan = plan(
        spec,
        Shape {
            agents,
            paths: vec![path],
            collectors: (max, initial),
            inline_service: how == Completions::Inline,
            deferred_completions: how == Completions::Deferred,
            seed: 5,
            horizon,
        },
    );
    let mut h = Harness::new(&plan, &mut s, SimDuration::from_nanos(5));
    for a in 0..agents {
        h.m.vm_running(&mut s, a);
    }
    let out = s.run_until(&mut h, horizon, &mut RunControl::none());
    h.m.finish(out.end);
    let mut sum = Summary::new();
    h.m.summarize(&mut sum, out.end);
    assert!(
        h.m.counts().expect("one thread").dropped_collector > 0,
        "the buffer of 1 overflows"
    );
    let series = h.m.take_tables().remove(0).to_csv();
    (out.events, sum.to_csv(), series)
}

/// Same tables and summary, fewer events.
fn assert_same(
    how: Completions,
    label: &str,
    run_with: impl Fn(Completions) -> (u64, String, Vec<u8>),
) {
    let (ev_short, sum_short, series_short) = run_with(how);
    let (ev_events, sum_events, series_events) = run_with(Completions::Events);
    assert!(ev_short < ev_events, "{label}: the shortcut is taken");
    assert_eq!(sum_short, sum_events, "{label}");
    assert!(
        series_short == series_events,
        "{label}: monitoring.csv differs"
    );
}

/// Two fixed collectors on two cores: services computed on arrival.
#[test]
fn inline_service_breaks_ties_like_events() {
    let fixed = r#"policy = "fixed"
        count = 2
        server_cores = 2"#;
    for (agents, service) in [(7, r#""3ns""#), (20, r#""1ns""#), (12, r#""2ns""#)] {
        assert_same(
            Completions::Inline,
            &format!("{agents} agents, {service}"),
            |how| run(how, agents, service, fixed, (2, 2), 0.0),
        );
    }
}

/// agentCount collectors (two topics each) on fewer cores than collectors: CPU contention
/// stretches services by the busy count at their start, lost reports get agents declared dead
/// and collectors retired with their queues moved, and exponential services of about a
/// nanosecond often end at the instant they start.
#[test]
fn deferred_completions_break_ties_like_events() {
    let agent_count = |cores: u32| {
        format!(
            r#"policy = "agentCount"
            max_host_count = 2
            server_cores = {cores}"#
        )
    };
    for (agents, service, cores, loss) in [
        (7u32, r#""3ns""#, 1, 0.0),
        (12, r#""2ns""#, 2, 0.3),
        (20, r#"{ dist = "exponential", mean = "1ns" }"#, 3, 0.3),
        (9, r#"{ dist = "exponential", mean = "2ns" }"#, 1, 0.5),
    ] {
        let max = agents.div_ceil(2);
        assert_same(
            Completions::Deferred,
            &format!("{agents} agents, {service}, {cores} cores, loss {loss}"),
            |how| run(how, agents, service, &agent_count(cores), (max, 1), loss),
        );
    }
}
