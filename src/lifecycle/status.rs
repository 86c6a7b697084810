//! VM statuses, actions, the allowed-action rules and the MCIS aggregate status, as
//! CB-Tumblebug defines them.
//!
//! Sources (see `../shared/domain/cloud-barista.md`): statuses and actions
//! `TB@v0.5.0:src/core/mcis/provisioning.go:41-98`; allowed actions per node
//! `TB@HEAD:src/core/infra/control.go:1338-1460`; aggregate status `GetMcisStatus`,
//! `TB@v0.5.0:src/core/mcis/manageInfo.go:502-669`.

use std::fmt;

/// A VM's status as CB-Tumblebug reports it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VmStatus {
    Creating,
    Running,
    Suspending,
    Suspended,
    Resuming,
    Rebooting,
    Terminating,
    Terminated,
    Failed,
    Undefined,
}

impl VmStatus {
    pub const ALL: [VmStatus; 10] = [
        VmStatus::Creating,
        VmStatus::Running,
        VmStatus::Suspending,
        VmStatus::Suspended,
        VmStatus::Resuming,
        VmStatus::Rebooting,
        VmStatus::Terminating,
        VmStatus::Terminated,
        VmStatus::Failed,
        VmStatus::Undefined,
    ];
    pub const COUNT: usize = 10;

    pub fn name(self) -> &'static str {
        match self {
            VmStatus::Creating => "Creating",
            VmStatus::Running => "Running",
            VmStatus::Suspending => "Suspending",
            VmStatus::Suspended => "Suspended",
            VmStatus::Resuming => "Resuming",
            VmStatus::Rebooting => "Rebooting",
            VmStatus::Terminating => "Terminating",
            VmStatus::Terminated => "Terminated",
            VmStatus::Failed => "Failed",
            VmStatus::Undefined => "Undefined",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        VmStatus::ALL.into_iter().find(|v| v.name() == s)
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// An operation is in flight (the status will change by itself).
    pub fn is_transitional(self) -> bool {
        matches!(
            self,
            VmStatus::Creating
                | VmStatus::Suspending
                | VmStatus::Resuming
                | VmStatus::Rebooting
                | VmStatus::Terminating
        )
    }
}

impl fmt::Display for VmStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An action a user (or the auto-control loop) asks CB-Tumblebug to perform.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Suspend,
    Resume,
    Reboot,
    Terminate,
    Refine,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Create => "Create",
            Action::Suspend => "Suspend",
            Action::Resume => "Resume",
            Action::Reboot => "Reboot",
            Action::Terminate => "Terminate",
            Action::Refine => "Refine",
        }
    }

    /// The status written when the action starts (TB `control.go:385-617`).
    pub fn transitional_status(self) -> Option<VmStatus> {
        match self {
            Action::Create => Some(VmStatus::Creating),
            Action::Suspend => Some(VmStatus::Suspending),
            Action::Resume => Some(VmStatus::Resuming),
            Action::Reboot => Some(VmStatus::Rebooting),
            Action::Terminate => Some(VmStatus::Terminating),
            Action::Refine => None,
        }
    }

    /// The status the action aims for (the VM's TargetStatus while it runs).
    pub fn target_status(self) -> Option<VmStatus> {
        match self {
            Action::Create | Action::Resume | Action::Reboot => Some(VmStatus::Running),
            Action::Suspend => Some(VmStatus::Suspended),
            Action::Terminate => Some(VmStatus::Terminated),
            Action::Refine => None,
        }
    }
}

/// What the rules say about an action on a VM.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Start the action.
    Apply,
    /// Accepted but nothing to do (terminate of a Terminated VM, re-dispatch of the action in flight).
    NoOp,
    /// Rejected: counted as an illegal action, the VM is untouched.
    Reject(&'static str),
}

/// CB-Tumblebug HEAD's per-node rule (`CheckAllowedTransition`, control.go:1338-1460).
/// `in_flight` is the VM's current TargetAction, if any.
pub fn check_action(status: VmStatus, in_flight: Option<Action>, action: Action) -> Verdict {
    use VmStatus::*;
    if action == Action::Create {
        return Verdict::Reject("create applies to a new VM only");
    }
    if action == Action::Refine {
        // Refine removes Failed and Undefined VMs and leaves the others alone.
        return if matches!(status, Failed | Undefined) {
            Verdict::Apply
        } else {
            Verdict::NoOp
        };
    }
    // Duplicate: the VM is already where the action leads.
    if Some(status) == action.target_status() && in_flight.is_none() {
        return match action {
            Action::Terminate => Verdict::NoOp,
            Action::Reboot => Verdict::Apply,
            _ => Verdict::Reject("the VM is already in the action's target status"),
        };
    }
    match status {
        Terminated => {
            if action == Action::Terminate {
                Verdict::NoOp
            } else {
                Verdict::Reject("the VM is terminated")
            }
        }
        Creating => Verdict::Reject("the VM is being created"),
        Terminating | Resuming | Suspending | Rebooting => {
            if in_flight == Some(action) {
                Verdict::NoOp
            } else {
                Verdict::Reject("another action is in progress")
            }
        }
        Suspended => match action {
            Action::Resume | Action::Terminate => Verdict::Apply,
            _ => Verdict::Reject("a suspended VM can only be resumed or terminated"),
        },
        Running | Failed | Undefined => Verdict::Apply,
    }
}

/// Status changes the lifecycle may ever make. Anything else is a bug (checked in tests and
/// debug builds). `Failed` is reachable from every live status (provider error, crash, outage,
/// timeout); Terminated is final.
pub fn is_legal_transition(from: VmStatus, to: VmStatus) -> bool {
    use VmStatus::*;
    if from == to {
        return false;
    }
    match (from, to) {
        (Terminated, _) => false,
        (_, Failed) => true,
        (Creating, Running) => true,
        (Running, Suspending | Rebooting | Terminating) => true,
        (Suspending, Suspended) => true,
        (Suspended, Resuming | Terminating) => true,
        (Resuming | Rebooting, Running) => true,
        (Terminating, Terminated) => true,
        // A failed or unknown VM may be terminated (TB allows it) or retried (re-created).
        (Failed | Undefined, Terminating | Creating) => true,
        // Suspend/resume/reboot of a Failed VM are accepted by TB; the provider call fails.
        (Failed | Undefined, Suspending | Resuming | Rebooting) => true,
        _ => false,
    }
}

/// Per-status counts of a group of VMs (an MCIS, a cloud).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusCount(pub [u32; VmStatus::COUNT]);

impl StatusCount {
    pub fn get(&self, s: VmStatus) -> u32 {
        self.0[s.index()]
    }
    pub fn add(&mut self, s: VmStatus) {
        self.0[s.index()] += 1;
    }
    pub fn remove(&mut self, s: VmStatus) {
        self.0[s.index()] -= 1;
    }
    pub fn total(&self) -> u32 {
        self.0.iter().sum()
    }
}

/// The MCIS status string CB-Tumblebug v0.5 reports, e.g. `Running-3(3/3)`,
/// `Partial-Running-2(3/3)`, `Partial-Failed-1(2/3)`.
pub fn mcis_status(c: &StatusCount) -> String {
    use VmStatus::*;
    // TB's flag order; ties go to the earlier flag.
    const ORDER: [VmStatus; 10] = [
        Failed,
        Suspended,
        Running,
        Terminated,
        Creating,
        Suspending,
        Resuming,
        Rebooting,
        Terminating,
        Undefined,
    ];
    let num_vm = c.total();
    if num_vm == 0 {
        return "Empty".to_string();
    }
    let num_normal = num_vm - c.get(Failed) - c.get(Undefined);
    let (mut best, mut max) = (ORDER[0], 0);
    for s in ORDER {
        if c.get(s) > max {
            best = s;
            max = c.get(s);
        }
    }
    let failed = c.get(Failed);
    if failed > 0 {
        let head = if failed == num_vm {
            "Failed"
        } else {
            "Partial-Failed"
        };
        return format!("{head}-{failed}({num_normal}/{num_vm})");
    }
    let partial = if max < num_vm { "Partial-" } else { "" };
    format!("{partial}{best}-{max}({num_normal}/{num_vm})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use VmStatus::*;

    fn count(pairs: &[(VmStatus, u32)]) -> StatusCount {
        let mut c = StatusCount::default();
        for (s, n) in pairs {
            c.0[s.index()] = *n;
        }
        c
    }

    #[test]
    fn aggregate_status_matches_tumblebug_examples() {
        assert_eq!(mcis_status(&count(&[(Running, 3)])), "Running-3(3/3)");
        assert_eq!(
            mcis_status(&count(&[(Running, 2), (Creating, 1)])),
            "Partial-Running-2(3/3)"
        );
        assert_eq!(
            mcis_status(&count(&[(Running, 2), (Failed, 1)])),
            "Partial-Failed-1(2/3)"
        );
        assert_eq!(mcis_status(&count(&[(Failed, 2)])), "Failed-2(0/2)");
        // Ties go to the earlier flag in TB's order (Suspended before Running).
        assert_eq!(
            mcis_status(&count(&[(Running, 2), (Suspended, 2)])),
            "Partial-Suspended-2(4/4)"
        );
        assert_eq!(mcis_status(&StatusCount::default()), "Empty");
    }

    #[test]
    fn allowed_actions_follow_tumblebug_head() {
        assert_eq!(check_action(Running, None, Action::Suspend), Verdict::Apply);
        assert!(matches!(
            check_action(Creating, None, Action::Terminate),
            Verdict::Reject(_)
        ));
        assert_eq!(
            check_action(Suspended, None, Action::Resume),
            Verdict::Apply
        );
        assert!(matches!(
            check_action(Suspended, None, Action::Reboot),
            Verdict::Reject(_)
        ));
        assert_eq!(
            check_action(Terminated, None, Action::Terminate),
            Verdict::NoOp
        );
        assert!(matches!(
            check_action(Terminated, None, Action::Resume),
            Verdict::Reject(_)
        ));
        assert_eq!(
            check_action(Suspending, Some(Action::Suspend), Action::Suspend),
            Verdict::NoOp
        );
        assert!(matches!(
            check_action(Suspending, Some(Action::Suspend), Action::Terminate),
            Verdict::Reject(_)
        ));
        assert!(matches!(
            check_action(Running, None, Action::Resume),
            Verdict::Reject(_)
        ));
        assert_eq!(check_action(Running, None, Action::Reboot), Verdict::Apply);
        assert_eq!(
            check_action(Failed, None, Action::Terminate),
            Verdict::Apply
        );
        assert_eq!(check_action(Failed, None, Action::Refine), Verdict::Apply);
        assert_eq!(check_action(Running, None, Action::Refine), Verdict::NoOp);
    }

    #[test]
    fn every_applied_action_starts_a_legal_transition() {
        for s in VmStatus::ALL {
            for a in [
                Action::Suspend,
                Action::Resume,
                Action::Reboot,
                Action::Terminate,
            ] {
                if check_action(s, None, a) == Verdict::Apply {
                    let to = a.transitional_status().unwrap();
                    assert!(is_legal_transition(s, to), "{s} --{a:?}--> {to}");
                }
            }
        }
    }
}
