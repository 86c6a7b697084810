//! The names of what a run writes, shared by the writing side (the models, `run`, `batch`) and
//! the reading side (`report`, `bench`, `merge`, the tests): a name is defined once here, so a
//! renamed file or metric cannot leave a reader behind.
//!
//! [`file`](mod@file) lists every file of a results folder and of a sweep folder; [`metric`] lists every
//! row of `summary.csv`, grouped by the model that writes it, in the order it writes them.

/// Files of a results folder (`cloudtwin run`) and of a sweep folder (`cloudtwin sweep`).
///
/// Tables are named by their CSV file; with `output.formats = ["parquet"]` each is also (or
/// only) written as `<stem>.parquet` ([`crate::output::parquet::file_name`]).
pub mod file {
    // Every run.
    /// What produced the folder: tool, version, scenario hash, seed, wall time.
    pub const MANIFEST: &str = "manifest.json";
    /// The scenario as it ran, every default filled in.
    pub const SCENARIO: &str = "scenario.toml";
    /// One `metric,value` row per scalar result (see [`super::metric`]).
    pub const SUMMARY: &str = "summary.csv";
    /// The resolved topology: one row per cloud.
    pub const CLOUDS: &str = "clouds.csv";
    /// Engine load over time: events processed and pending.
    pub const ENGINE: &str = "engine.csv";

    // The lifecycle model.
    /// VMs per (cloud, status) at each sample.
    pub const VM_STATES: &str = "vm_states.csv";
    /// CB-Tumblebug's MCIS status and per-status counts at each sample.
    pub const MCIS_STATUS: &str = "mcis_status.csv";
    /// Provider API calls, create queue and registrations per provider and sample interval.
    pub const PROVIDER_API: &str = "provider_api.csv";
    /// Every outage (scheduled and random) and the VMs it failed.
    pub const OUTAGES: &str = "outages.csv";
    /// Per-VM transition log (`output.vm_events = true`).
    pub const VM_EVENTS: &str = "vm_events.csv";

    // The monitoring model.
    /// CB-Dragonfly's load at each sample: reports, collectors, backlog, storage, delay.
    pub const MONITORING: &str = "monitoring.csv";

    // The control model.
    /// Per watched MCIS and sample: mean CPU, VMs, policy status, actions.
    pub const CONTROL: &str = "control.csv";
    /// Every on-demand monitoring sample the control loop took.
    pub const CONTROL_SAMPLES: &str = "control_samples.csv";
    /// Every action the control loop took.
    pub const CONTROL_ACTIONS: &str = "control_actions.csv";

    // The CLADNet model.
    /// The latency model between every ordered pair of the scenario's clouds.
    pub const CLOUD_RTT: &str = "cloud_rtt.csv";
    /// CLADNet status tests: the min/avg/max/stddev RTT and loss matrix.
    pub const LATENCY_MATRIX: &str = "latency_matrix.csv";
    /// CLADNet control-plane placements side by side (`cladnet.placement.enabled`).
    pub const PLACEMENT: &str = "placement.csv";

    // The live twin (`cloudtwin serve`, `cloudtwin replay`).
    /// Answers of the twin's API per sample interval, by route and status.
    pub const API: &str = "api.csv";
    /// Every request of a served session and its answer's status: `cloudtwin replay` re-runs it.
    pub const API_JOURNAL: &str = "api_journal.jsonl";

    // Reports (`cloudtwin report`).
    /// The report page.
    pub const REPORT: &str = "report.html";
    /// Folder of the plots.
    pub const PLOTS_DIR: &str = "plots";

    // Sweep folders.
    /// The sweep's grid, runs and their status.
    pub const SWEEP_MANIFEST: &str = "sweep_manifest.json";
    /// Per point and metric: n, mean, sd and the 95% confidence interval.
    pub const SWEEP_SUMMARY: &str = "sweep_summary.csv";
    /// Folder holding one results folder per run.
    pub const RUNS_DIR: &str = "runs";
}

/// Rows of `summary.csv`.
pub mod metric {
    // The run itself.
    /// Events the engine handled.
    pub const EVENTS_PROCESSED: &str = "events_processed";
    /// Simulated seconds run (the horizon, unless interrupted).
    pub const SIM_TIME_S: &str = "sim_time_s";
    /// Clouds of the scenario.
    pub const CLOUDS: &str = "clouds";
    /// VMs the scenario's MCIS requests create.
    pub const VMS_CONFIGURED: &str = "vms_configured";
    /// Most events pending at once.
    pub const MAX_PENDING_EVENTS: &str = "max_pending_events";

    // The lifecycle model.
    pub const VMS_PLANNED: &str = "vms_planned";
    pub const VM_CREATE_REQUESTS: &str = "vm_create_requests";
    pub const VM_CREATE_FAILURES: &str = "vm_create_failures";
    pub const VM_CREATE_TIMEOUTS: &str = "vm_create_timeouts";
    pub const VM_CREATE_RETRIES: &str = "vm_create_retries";
    pub const VMS_RUNNING_END: &str = "vms_running_end";
    pub const VMS_FAILED_END: &str = "vms_failed_end";
    pub const VMS_SUSPENDED_END: &str = "vms_suspended_end";
    pub const VMS_TERMINATED_END: &str = "vms_terminated_end";
    /// VMs that reached Running at least once (spare scale-out slots excluded).
    pub const VMS_PROVISIONED: &str = "vms_provisioned";
    /// Request-to-first-Running time of provisioned VMs.
    pub const PROVISION_TIME_P50_S: &str = "provision_time_p50_s";
    pub const PROVISION_TIME_P95_S: &str = "provision_time_p95_s";
    pub const PROVISION_TIME_MAX_S: &str = "provision_time_max_s";
    /// When the last VM settled (Running, or failed for good).
    pub const PROVISION_SETTLED_S: &str = "provision_settled_s";
    pub const CONTROL_ACTIONS: &str = "control_actions";
    pub const CONTROL_FAILURES: &str = "control_failures";
    /// Actions CB-Tumblebug's allowed-action rules rejected.
    pub const ILLEGAL_ACTIONS: &str = "illegal_actions";
    pub const VM_CRASHES: &str = "vm_crashes";
    pub const OUTAGES: &str = "outages";
    pub const OUTAGE_VM_FAILURES: &str = "outage_vm_failures";
    pub const VMS_REFINED: &str = "vms_refined";
    pub const AGENT_REGISTRATIONS: &str = "agent_registrations";
    pub const PROVIDER_API_CALLS: &str = "provider_api_calls";
    /// Billed VM-hours (Running and the transitional statuses a provider bills).
    pub const VM_HOURS: &str = "vm_hours";
    pub const COST_USD: &str = "cost_usd";

    // The monitoring model.
    /// Reports sent by the end (arrived or still on the network).
    pub const MONITORING_REPORTS_SENT: &str = "monitoring_reports_sent";
    pub const MONITORING_REPORTS_STORED: &str = "monitoring_reports_stored";
    pub const MONITORING_REPORTS_DROPPED: &str = "monitoring_reports_dropped";
    pub const MONITORING_DROPPED_NETWORK: &str = "monitoring_dropped_network";
    pub const MONITORING_BYTES_SENT: &str = "monitoring_bytes_sent";
    pub const MONITORING_DROPPED_COLLECTOR: &str = "monitoring_dropped_collector";
    pub const MONITORING_DROPPED_STORAGE: &str = "monitoring_dropped_storage";
    /// Sent and neither stored nor dropped at the end: sent = stored + dropped + in flight.
    pub const MONITORING_IN_FLIGHT_END: &str = "monitoring_in_flight_end";
    /// Send-to-stored delay of stored reports.
    pub const MONITORING_DELAY_P50_MS: &str = "monitoring_delay_p50_ms";
    pub const MONITORING_DELAY_P95_MS: &str = "monitoring_delay_p95_ms";
    pub const MONITORING_DELAY_P99_MS: &str = "monitoring_delay_p99_ms";
    /// Mean wait in a collector's queue, with its batch-means 95% CI half-width.
    pub const COLLECTOR_WAIT_MEAN_MS: &str = "collector_wait_mean_ms";
    pub const COLLECTOR_WAIT_CI95_MS: &str = "collector_wait_ci95_ms";
    pub const COLLECTOR_COUNT_MAX: &str = "collector_count_max";
    pub const COLLECTOR_UTILIZATION_MEAN: &str = "collector_utilization_mean";
    pub const STORAGE_UTILIZATION_MEAN: &str = "storage_utilization_mean";
    pub const STORAGE_POINTS_WRITTEN: &str = "storage_points_written";
    pub const AGENTS_DECLARED_DEAD: &str = "agents_declared_dead";
    pub const PULL_FAILURES: &str = "pull_failures";
    pub const ON_DEMAND_CALLS: &str = "on_demand_calls";
    pub const ON_DEMAND_FAILURES: &str = "on_demand_failures";

    // The control model.
    pub const CONTROL_TICKS: &str = "control_ticks";
    pub const CONTROL_TICKS_DELAYED: &str = "control_ticks_delayed";
    pub const CONTROL_TICKS_DROPPED: &str = "control_ticks_dropped";
    pub const CONTROL_DETECTIONS: &str = "control_detections";
    pub const SCALE_OUT_ACTIONS: &str = "scale_out_actions";
    pub const SCALE_IN_ACTIONS: &str = "scale_in_actions";
    pub const OTHER_CONTROL_ACTIONS: &str = "other_control_actions";
    pub const CONTROL_MONITORING_CALLS: &str = "control_monitoring_calls";
    pub const CONTROL_MONITORING_FAILURES: &str = "control_monitoring_failures";
    /// Time the mean CPU of an MCIS spent above its first CPU scale-out threshold.
    pub const CPU_OVER_THRESHOLD_S: &str = "cpu_over_threshold_s";

    // The CLADNet model.
    /// Median and largest RTT between distinct clouds.
    pub const CLOUD_RTT_P50_MS: &str = "cloud_rtt_p50_ms";
    pub const CLOUD_RTT_MAX_MS: &str = "cloud_rtt_max_ms";
    pub const STATUS_TESTS: &str = "status_tests";
    pub const STATUS_TEST_PROBES: &str = "status_test_probes";
    pub const STATUS_TEST_BYTES: &str = "status_test_bytes";

    // The live twin.
    /// Requests that reached the twin (journaled, replayed).
    pub const API_REQUESTS: &str = "api_requests";
    pub const API_ANSWERS: &str = "api_answers";
    /// Answers with a status of 400 or more.
    pub const API_ERRORS: &str = "api_errors";
    /// `POST /vm` answered 200 with a Running VM.
    pub const API_VMS_CREATED: &str = "api_vms_created";
    pub const API_VM_CREATE_FAILURES: &str = "api_vm_create_failures";
    pub const API_VMS_DELETED: &str = "api_vms_deleted";
    /// Clouds that joined through connections registered during the session.
    pub const API_CLOUDS_JOINED: &str = "api_clouds_joined";
    pub const API_OUTAGES_INJECTED: &str = "api_outages_injected";
}
