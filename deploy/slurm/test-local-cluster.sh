#!/usr/bin/env bash
# A real Slurm cluster test of deploy/slurm/sweep.sbatch (run by .ci/run):
#
#   1. installs Debian's slurm-wlm and munge if missing (needs root and apt),
#   2. writes a one-node slurm.conf for this host (no cgroups, state under a temporary folder),
#      starts munged, slurmctld and slurmd (our own instances, on their own ports and socket),
#   3. submits sweep.sbatch as a 3-task job array over a tiny sweep, then the merge as a job
#      depending on it, and waits (bounded),
#   4. compares the merged sweep_summary.csv and sweep_manifest.json byte for byte with a
#      single-machine sweep of the same grid.
#
# Exit codes: 0 passed, 1 failed, 77 skipped: the cluster cannot run here (not root, no apt,
# daemons that do not start, ...); the reason is printed on a line starting "SKIPPED:".
#
# Environment: CLOUDTWIN_BIN (default: builds and uses <target>/debug/cloudtwin),
# SLURM_TEST_TIMEOUT (seconds to wait for the jobs, default 180), KEEP=1 keeps the temp folder.
set -uo pipefail

SKIP=77
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$(mktemp -d /tmp/cloudtwin-slurm.XXXXXX)"
chmod 700 "$WORK"
TIMEOUT="${SLURM_TEST_TIMEOUT:-180}"
PIDS=()
POLICY_RC_CREATED=0

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.5
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    if [ "$POLICY_RC_CREATED" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

log() { echo "[slurm-test] $*"; }
show_logs() {
    for f in "$WORK"/log/*.log "$WORK"/out/*.out; do
        [ -s "$f" ] || continue
        echo "----- $f (last 20 lines)"
        tail -n 20 "$f"
    done
}
skip() {
    echo "SKIPPED: $*"
    show_logs
    exit "$SKIP"
}
fail() {
    echo "FAILED: $*"
    show_logs
    exit 1
}

# --- 1. Slurm and munge -------------------------------------------------------------------
need_install=0
for b in slurmctld slurmd sbatch squeue sinfo munged; do
    command -v "$b" >/dev/null 2>&1 || need_install=1
done
if [ "$need_install" = 1 ]; then
    [ "$(id -u)" = 0 ] || skip "slurm-wlm/munge are not installed and installing them needs root"
    command -v apt-get >/dev/null 2>&1 || skip "slurm-wlm/munge are not installed and there is no apt-get"
    # Keep the packages' maintainer scripts from starting the system's own daemons.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        POLICY_RC_CREATED=1
    fi
    log "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    timeout 120 apt-get update -qq >"$WORK/apt.log" 2>&1 ||
        skip "apt-get update failed: $(tail -n 3 "$WORK/apt.log" | tr '\n' ' ')"
    timeout 300 apt-get install -y -qq --no-install-recommends slurm-wlm munge >>"$WORK/apt.log" 2>&1 ||
        skip "apt-get install slurm-wlm munge failed: $(tail -n 3 "$WORK/apt.log" | tr '\n' ' ')"
fi
[ "$(id -u)" = 0 ] || skip "the test starts slurmd, which needs root"
log "$(slurmctld -V)"

# --- the binary ----------------------------------------------------------------------------
if [ -n "${CLOUDTWIN_BIN:-}" ]; then
    BIN="$CLOUDTWIN_BIN"
else
    (cd "$REPO" && cargo build --locked --quiet) || fail "cargo build failed"
    TD="${CARGO_TARGET_DIR:-target}"
    case "$TD" in /*) ;; *) TD="$REPO/$TD" ;; esac
    BIN="$TD/debug/cloudtwin"
fi
[ -x "$BIN" ] || fail "no cloudtwin binary at $BIN"

# --- 2. the cluster ------------------------------------------------------------------------
mkdir -p "$WORK"/{munge,state,spool,log,out,sweep}
HOST="$(hostname -s 2>/dev/null || hostname)"
CPUS="$(nproc)"
# Ports of our own (not the default 6817/6818), so a system Slurm does not interfere.
CTLD_PORT="${SLURM_TEST_CTLD_PORT:-16817}"
SLURMD_PORT="${SLURM_TEST_SLURMD_PORT:-16818}"

dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$WORK/munge/munge.key"
MUNGE_SOCK="$WORK/munge/munge.sock"
log "starting munged"
munged --foreground --force --key-file="$WORK/munge/munge.key" --socket="$MUNGE_SOCK" \
    --pid-file="$WORK/munge/munged.pid" --log-file="$WORK/log/munged.log" \
    --seed-file="$WORK/munge/munge.seed" >"$WORK/log/munged.stdout.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$MUNGE_SOCK" ] && break; sleep 0.1; done
[ -S "$MUNGE_SOCK" ] || skip "munged did not start (no socket $MUNGE_SOCK)"
if ! echo ok | munge --socket="$MUNGE_SOCK" | unmunge --socket="$MUNGE_SOCK" >/dev/null 2>&1; then
    skip "munge cannot encode/decode credentials here"
fi

CONF="$WORK/slurm.conf"
cat >"$CONF" <<EOF
# One-node test cluster (written by deploy/slurm/test-local-cluster.sh)
ClusterName=cloudtwin-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCK
CredType=cred/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
# No cgroups: plain process tracking, no task containment, no accounting.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$CONF"

log "starting slurmctld and slurmd ($HOST, $CPUS CPUs)"
slurmctld -D -i -f "$CONF" >"$WORK/log/slurmctld.stdout.log" 2>&1 &
PIDS+=($!)
sleep 1
slurmd -D -f "$CONF" >"$WORK/log/slurmd.stdout.log" 2>&1 &
PIDS+=($!)

state=""
for _ in $(seq 60); do
    state="$(sinfo -h -n "$HOST" -o %T 2>/dev/null | head -n 1)"
    case "$state" in idle* | mix* | alloc*) break ;; esac
    for p in "${PIDS[@]}"; do
        kill -0 "$p" 2>/dev/null || skip "a Slurm daemon exited during start-up (see the logs below)"
    done
    sleep 0.5
done
case "$state" in
idle* | mix* | alloc*) log "node $HOST is $state" ;;
*) skip "the Slurm node did not become idle within 30 s (state: '${state:-none}')" ;;
esac

# --- 3. the sweep as a job array, then the merge --------------------------------------------
cat >"$WORK/tiny.toml" <<'EOF'
[simulation]
name = "slurm-tiny"
seed = 3
duration = "10m"
sample_interval = "30s"

[topology]
vms_per_cloud = 2
mix = { aws = 1, gcp = 1 }

[lifecycle]
api_delay = { dist = "uniform", min = "5s", max = "10s" }

[monitoring]
enabled = false
EOF
export SCENARIO="$WORK/tiny.toml"
export SWEEP_ARGS="--vary lifecycle.create_failure_p=0.1,0.3 --replications 3"
export OUT="$WORK/sweep"
export CLOUDTWIN="$BIN"
export CLOUDTWIN_SHARDS=3

log "submitting deploy/slurm/sweep.sbatch as a 3-task array"
jid="$(sbatch --parsable --array=0-2 --cpus-per-task=1 --chdir="$WORK" \
    --output="$WORK/out/sweep-%A_%a.out" "$REPO/deploy/slurm/sweep.sbatch" 2>"$WORK/log/sbatch.log")" ||
    fail "sbatch failed: $(cat "$WORK/log/sbatch.log")"
jid="${jid%%;*}"
log "array job $jid"
mid="$(sbatch --parsable --dependency=afterok:"$jid" --job-name=cloudtwin-merge --cpus-per-task=1 \
    --chdir="$WORK" --output="$WORK/out/merge-%j.out" \
    --wrap "'$BIN' merge '$OUT'/shard-* --out '$OUT/merged'" 2>>"$WORK/log/sbatch.log")" ||
    fail "sbatch (merge) failed: $(cat "$WORK/log/sbatch.log")"
mid="${mid%%;*}"
log "merge job $mid (after $jid)"

deadline=$((SECONDS + TIMEOUT))
while [ -n "$(squeue -h -j "$jid,$mid" 2>/dev/null)" ]; do
    [ "$SECONDS" -lt "$deadline" ] || {
        squeue -j "$jid,$mid" 2>&1
        fail "the jobs did not finish within $TIMEOUT s"
    }
    if squeue -h -j "$mid" -o %r 2>/dev/null | grep -q DependencyNeverSatisfied; then
        scontrol show job "$jid" 2>&1 | grep -E "JobId|JobState|ExitCode"
        fail "an array task failed, so the merge job will never run"
    fi
    sleep 1
done
log "jobs done"
for f in "$WORK"/out/*.out; do
    echo "----- $(basename "$f")"
    cat "$f"
done
# Every job (3 array tasks and the merge) must have exited 0.
codes="$(scontrol -o show job "$jid" 2>/dev/null; scontrol -o show job "$mid" 2>/dev/null)"
ok="$(grep -c 'JobState=COMPLETED .*ExitCode=0:0' <<<"$codes")"
[ "$ok" = 4 ] || {
    echo "$codes" | grep -oE 'JobId=[0-9]+ ArrayJobId=[0-9]+ ArrayTaskId=[0-9]+|JobId=[0-9]+ JobName=[^ ]+|JobState=[A-Z]+|ExitCode=[0-9:]+'
    fail "expected 4 jobs COMPLETED with exit code 0, found $ok"
}

# --- 4. compare with a single-machine sweep --------------------------------------------------
[ -s "$OUT/merged/sweep_summary.csv" ] || fail "the merge job wrote no $OUT/merged/sweep_summary.csv"
for i in 0 1 2; do
    n="$(find "$OUT/shard-$i/runs" -mindepth 1 -maxdepth 1 -name 'p*' | wc -l)"
    [ "$n" = 2 ] || fail "shard $i holds $n runs, expected 2"
done
# shellcheck disable=SC2086
"$BIN" sweep "$SCENARIO" $SWEEP_ARGS --out "$WORK/single" --quiet || fail "the single-machine sweep failed"
cmp "$OUT/merged/sweep_summary.csv" "$WORK/single/sweep_summary.csv" ||
    fail "merged sweep_summary.csv differs from the single-machine sweep"
cmp "$OUT/merged/sweep_manifest.json" "$WORK/single/sweep_manifest.json" ||
    fail "merged sweep_manifest.json differs from the single-machine sweep"
for run in "$WORK"/single/runs/*; do
    id="$(basename "$run")"
    for f in "$run"/*.csv "$run"/scenario.toml; do
        cmp "$f" "$OUT/merged/runs/$id/$(basename "$f")" || fail "run $id: $(basename "$f") differs"
    done
done
log "merged results of 3 Slurm array tasks are byte-identical to the single-machine sweep:"
cat "$OUT/merged/sweep_summary.csv" | head -n 5
echo "PASSED: Slurm job array sweep + merge == single-machine sweep"
