//! The auto-control loop against CB-Tumblebug's timing and quirks: first detection no earlier
//! than the evaluation period, actions spaced by at least one tick plus the evaluation period,
//! a blocked loop delays one tick and drops the rest, faithful and fixed modes differ exactly
//! where monitoring calls fail, and scale-out placement follows its algorithm.

mod common;

use cloudtwin::output::names::{file, metric};
use cloudtwin::run::RunOutput;
use common::{col, int, num, run_file, run_text, scenario_path, table};

/// Times (s) of the actions in control_actions.csv that created or removed a VM.
fn action_times(out: &RunOutput, action: &str) -> Vec<f64> {
    let t = table(out, file::CONTROL_ACTIONS);
    let (ct, ca, cv) = (col(t, "time_s"), col(t, "action"), col(t, "vm"));
    t.rows()
        .iter()
        .filter(|r| r[ca] == action && !r[cv].is_empty())
        .map(|r| num(&r[ct]))
        .collect()
}

/// Two clouds x 2 VMs that are Running within seconds, constant demand, monitoring off (the
/// controller then reads VMs directly, with no call latency), one policy.
fn scenario(demand: f64, ep: u32, extra: &str) -> String {
    format!(
        r#"
[simulation]
name = "ctl"
seed = 5
duration = "40m"
sample_interval = "10s"

[topology]
vms_per_cloud = 2
clouds = ["aws:us-east-1", "gcp:us-central1"]

[lifecycle]
stagger = {{ mode = "none" }}
pre_create_jitter = "0s"
api_delay = "1s"
boot_time = "2s"
create_failure_p = 0.0

[monitoring]
enabled = false

[[workload]]
mcis = "mcis"
demand = {{ shape = "constant", value = {demand} }}
noise_sd = 0.0

[control]
tick = "10s"
post_create_wait = "20s"
agent_install_time = "30s"

[[control.policies]]
mcis = "mcis"
metric = "cpu"
operator = ">="
operand = 80.0
evaluation_period = {ep}
action = "scale_out"
max_vms = 40
{extra}
"#
    )
}

#[test]
fn first_detection_waits_for_the_evaluation_period() {
    for ep in [1u32, 3, 10] {
        let out = run_text(&scenario(100.0, ep, ""), &[]);
        let first = action_times(&out, "ScaleOut")[0];
        // Samples at ticks 1..=ep fill the history; the detection at tick ep is acted on at
        // the next tick. With no monitoring latency the times are exact.
        assert!(
            first >= (ep * 10) as f64,
            "ep {ep}: first action at {first}"
        );
        assert_eq!(first, ((ep + 1) * 10) as f64, "ep {ep}");
    }
}

#[test]
fn actions_are_spaced_by_at_least_one_tick_plus_the_evaluation_period() {
    for ep in [2u32, 5] {
        let out = run_text(&scenario(100.0, ep, ""), &[]);
        let times = action_times(&out, "ScaleOut");
        assert!(times.len() >= 3, "ep {ep}: {times:?}");
        for w in times.windows(2) {
            let gap = w[1] - w[0];
            assert!(
                gap >= ((1 + ep) * 10) as f64,
                "ep {ep}: gap {gap} in {times:?}"
            );
        }
    }
}

#[test]
fn a_blocked_loop_delays_one_tick_and_drops_the_others() {
    let out = run_text(&scenario(100.0, 2, ""), &[]);
    let ticks = int(&out, metric::CONTROL_TICKS);
    let delayed = int(&out, metric::CONTROL_TICKS_DELAYED);
    let dropped = int(&out, metric::CONTROL_TICKS_DROPPED);
    // A scale-out blocks for create (~3 s) + 20 s + 30 s: the ticks falling inside run late
    // (one) or are dropped (the rest).
    assert!(
        delayed > 0 && dropped > 0,
        "delayed {delayed}, dropped {dropped}"
    );
    let fired = 40 * 60 / 10;
    // Every tick ran a pass or was dropped (one may still wait at the horizon).
    assert!(
        ticks + dropped == fired || ticks + dropped == fired - 1,
        "ticks {ticks} + dropped {dropped} vs {fired} fired"
    );
    // Without actions nothing blocks: every tick runs on time.
    let idle = run_text(&scenario(1.0, 2, ""), &[]);
    assert_eq!(int(&idle, metric::CONTROL_TICKS_DROPPED), 0);
    assert_eq!(int(&idle, metric::CONTROL_TICKS_DELAYED), 0);
    assert_eq!(int(&idle, metric::CONTROL_TICKS), fired);
}

#[test]
fn cooldown_and_max_vms_limit_actions() {
    let free = run_text(&scenario(100.0, 1, ""), &[]);
    let cooled = run_text(&scenario(100.0, 1, "cooldown = \"5m\""), &[]);
    let (a, b) = (
        action_times(&free, "ScaleOut"),
        action_times(&cooled, "ScaleOut"),
    );
    assert!(
        b.len() < a.len(),
        "cooldown reduces actions: {} vs {}",
        b.len(),
        a.len()
    );
    for w in b.windows(2) {
        assert!(w[1] - w[0] >= 300.0, "{b:?}");
    }
    let capped = run_text(
        &scenario(100.0, 1, "").replace("max_vms = 40", "max_vms = 6"),
        &[],
    );
    assert_eq!(
        int(&capped, metric::SCALE_OUT_ACTIONS),
        2,
        "4 VMs + 2 = max_vms 6"
    );
}

/// Faithful and fixed mode see the same calls; where a call fails, faithful averages a 0 in.
#[test]
fn faithful_and_fixed_differ_exactly_where_monitoring_fails() {
    // Monitoring on, so calls fail while an agent is not installed; one cloud's VMs also fail
    // in an outage. The operand is unreachable so no action changes the fleet.
    let base = scenario(2.0, 3, "")
        .replace("operand = 80.0", "operand = 1000.0")
        .replace(
            "[monitoring]\nenabled = false",
            "[monitoring]\nagent_start_delay = { dist = \"uniform\", min = \"10s\", max = \"90s\" }",
        )
        + "\n[[lifecycle.outages]]\nscope = \"region\"\ntarget = \"gcp:us-central1\"\nstart = \"15m\"\nduration = \"5m\"\n";
    let faithful = run_text(&base, &[]);
    let fixed = run_text(
        &base.replace("[control]", "[control]\nmode = \"fixed\""),
        &[],
    );
    let (a, b) = (
        table(&faithful, file::CONTROL_SAMPLES),
        table(&fixed, file::CONTROL_SAMPLES),
    );
    assert_eq!(a.len(), b.len());
    let (cavg, cok, cfail) = (
        col(a, "mcis_average"),
        col(a, "answers"),
        col(a, "failed_calls"),
    );
    let (mut differing, mut failing) = (0, 0);
    for (ra, rb) in a.rows().iter().zip(b.rows()) {
        assert_eq!(ra[col(a, "time_s")], rb[col(b, "time_s")]);
        assert_eq!(
            (&ra[cok], &ra[cfail]),
            (&rb[cok], &rb[cfail]),
            "same calls, same outcomes"
        );
        let ok = num(&ra[cok]);
        let failed = num(&ra[cfail]);
        if failed == 0.0 {
            assert_eq!(ra[cavg], rb[cavg], "no failure: identical averages");
            continue;
        }
        failing += 1;
        if ok == 0.0 {
            // Faithful averages zeros; fixed has no answer to average.
            assert_eq!(ra[cavg], "0");
            assert_eq!(rb[cavg], "");
            continue;
        }
        let (fa, fx) = (num(&ra[cavg]), num(&rb[cavg]));
        let expect = fx * ok / (ok + failed);
        assert!(
            (fa - expect).abs() < 1e-9,
            "faithful {fa} = fixed {fx} x {ok}/{}",
            ok + failed
        );
        if fx > 0.0 {
            differing += 1;
        }
    }
    assert!(
        failing > 0 && differing > 0,
        "the scenario must exercise failed calls"
    );
}

#[test]
fn scale_in_removes_the_newest_autogen_vm_only() {
    // High load for 10 minutes creates AutoGen VMs; then low load removes them newest first,
    // never the user-created ones.
    let text = scenario(100.0, 1, "")
        .replace(
            "demand = { shape = \"constant\", value = 100 }",
            "demand = { shape = \"step\", base = 100.0, steps = [{ at = \"8m\", value = 0.5 }] }",
        )
        .replace("demand = {{", "demand = {")
        + r#"
[[control.policies]]
mcis = "mcis"
metric = "cpu"
operator = "<="
operand = 30.0
evaluation_period = 1
action = "scale_in"
min_vms = 4
"#;
    let out = run_text(&text, &[]);
    let t = table(&out, file::CONTROL_ACTIONS);
    let (ca, cname) = (col(t, "action"), col(t, "vm_name"));
    let outs: Vec<&str> = t
        .rows()
        .iter()
        .filter(|r| r[ca] == "ScaleOut" && !r[cname].is_empty())
        .map(|r| r[cname].as_str())
        .collect();
    let ins: Vec<&str> = t
        .rows()
        .iter()
        .filter(|r| r[ca] == "ScaleIn" && !r[cname].is_empty())
        .map(|r| r[cname].as_str())
        .collect();
    assert!(
        !outs.is_empty() && !ins.is_empty(),
        "outs {outs:?} ins {ins:?}"
    );
    assert!(ins.iter().all(|n| n.contains("AutoGen")), "{ins:?}");
    let mut newest_first: Vec<&str> = outs.clone();
    newest_first.reverse();
    assert_eq!(ins, newest_first[..ins.len()].to_vec(), "newest first");
    assert_eq!(ins.len(), outs.len(), "back to the 4 user VMs");
}

#[test]
fn placement_algorithms_choose_as_specified() {
    let with = |placement: &str| {
        let out = run_text(
            &scenario(100.0, 1, &format!("placement = {placement}"))
                .replace("max_vms = 40", "max_vms = 5"),
            &[],
        );
        let t = table(&out, file::CONTROL_ACTIONS);
        let r = t
            .rows()
            .iter()
            .find(|r| !r[col(t, "vm")].is_empty())
            .unwrap()
            .clone();
        r[col(t, "detail")].clone()
    };
    // Cheapest spec of the two clouds' regions.
    let cheapest = with("{ algo = \"cost\" }");
    let specs = cloudtwin::topology::specs::SpecCatalogue::builtin();
    let min = specs
        .specs()
        .iter()
        .filter(|s| {
            (s.provider == "aws" && s.region == "us-east-1")
                || (s.provider == "gcp" && s.region == "us-central1")
        })
        .min_by(|a, b| a.cost_per_hour.total_cmp(&b.cost_per_hour))
        .unwrap();
    assert!(cheapest.ends_with(&min.name), "{cheapest} vs {}", min.name);
    // Nearest to Chicago: gcp us-central1 (Iowa) rather than aws us-east-1 (Virginia).
    assert!(
        with("{ algo = \"location\", near = \"41.88/-87.63\" }").starts_with("gcp:us-central1")
    );
    // Lowest RTT to Virginia: aws us-east-1.
    assert!(
        with("{ algo = \"latency\", regions = [\"aws:us-east-2\"] }").starts_with("aws:us-east-1")
    );
    // Filters: at least 8 vCPU.
    let big = with("{ algo = \"cost\", min_vcpu = 8 }");
    let name = big.split(' ').nth(1).unwrap();
    assert!(
        specs.specs().iter().any(|s| s.name == name && s.vcpu >= 8),
        "{big}"
    );
    // Random (TB v0.5) copies an existing VM's cloud and spec.
    let r = with("{ algo = \"random\" }");
    assert!(
        r.starts_with("aws:us-east-1") || r.starts_with("gcp:us-central1"),
        "{r}"
    );
}

#[test]
fn demo_scenario_scales_out_then_in() {
    let out = run_file(&scenario_path("autoscale-demo.toml"), &[]);
    assert!(int(&out, metric::SCALE_OUT_ACTIONS) >= 2);
    assert!(int(&out, metric::SCALE_IN_ACTIONS) >= 2);
    let t = table(&out, file::CONTROL);
    let cpu = col(t, "mean_cpu_pct");
    let peak = t
        .rows()
        .iter()
        .filter_map(|r| r[cpu].parse::<f64>().ok())
        .fold(0.0, f64::max);
    assert!(peak >= 80.0, "load passes 80%: {peak}");
    // After the scale-outs, with the load held, CPU is back under 80%.
    let at = |s: f64| {
        t.rows()
            .iter()
            .find(|r| num(&r[0]) >= s)
            .map(|r| num(&r[cpu]))
            .unwrap()
    };
    assert!(at(3600.0) < 80.0, "CPU falls back: {}", at(3600.0));
}

/// A scale-out of `step` VMs creates `step` distinct VMs, each launched once (one action used
/// to hand the same spare slot to all of them).
#[test]
fn one_action_creating_several_vms_gives_each_its_own_slot() {
    let out = run_text(
        &scenario(100.0, 1, "step = 3").replace("duration = \"40m\"", "duration = \"10m\""),
        &["output.vm_events=true"],
    );
    let t = table(&out, file::CONTROL_ACTIONS);
    let (ct, ca, cv) = (col(t, "time_s"), col(t, "action"), col(t, "vm"));
    let created: Vec<(String, String)> = t
        .rows()
        .iter()
        .filter(|r| r[ca] == "ScaleOut" && !r[cv].is_empty())
        .map(|r| (r[ct].clone(), r[cv].clone()))
        .collect();
    let first = &created[0].0;
    let vms: Vec<&String> = created
        .iter()
        .filter(|(t, _)| t == first)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(vms.len(), 3, "one action of step 3: {created:?}");
    let distinct: std::collections::BTreeSet<&String> = created.iter().map(|(_, v)| v).collect();
    assert_eq!(distinct.len(), created.len(), "every VM once: {created:?}");
    // Each new VM is created once (one transition to Creating).
    let ev = table(&out, file::VM_EVENTS);
    let (cvm, cto) = (col(ev, "vm"), col(ev, "to"));
    for (_, vm) in &created {
        let creates = ev
            .rows()
            .iter()
            .filter(|r| &r[cvm] == vm && r[cto] == "Creating")
            .count();
        assert_eq!(creates, 1, "VM {vm} created once");
    }
}
