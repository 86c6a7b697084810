#!/usr/bin/env bash
# The live twin under load (BENCHMARKS.md, "Live twin"): 10,000 VMs created through the API
# across 100 CLOUDTWIN connections, the twin at --speed 100, then GET /vmstatus/{Name} driven
# by wrk. Prints the create phase (every POST /vm answered once), wrk's throughput and latency
# percentiles, and the lag of the simulation behind the paced clock.
#
#   benches/serve/bench.sh [BIN] [CLOUDS] [PER_CLOUD] [SECONDS]
#
# Needs curl and wrk (Debian: apt-get install wrk). Uses 127.0.0.1 only.
set -euo pipefail
BIN=${1:-target/release/cloudtwin}
CLOUDS=${2:-100}
PER=${3:-100}
SECS=${4:-30}
CONC=${CONC:-1000}
export CLOUDS PER_CLOUD=$PER
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill -INT $pid 2>/dev/null || true; rm -rf "$work"' EXIT

"$BIN" serve --listen 127.0.0.1:0 --speed 100 --out "$work/out" \
  --set output.report=false --set lifecycle.providers.cloudtwin.create_failure_p=0 \
  --set monitoring.interval=5s > "$work/log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q listening "$work/log" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/log")
post() { curl -sS -o /dev/null -w '%{http_code}\n' -X POST "$url$1" -H 'Content-Type: application/json' -d "$2"; }

echo "== register $CLOUDS CLOUDTWIN clouds"
post /spider/driver '{"DriverName":"ct","ProviderName":"CLOUDTWIN","DriverLibFileName":"cloudtwin-driver-v1.0.so"}' >/dev/null
post /spider/region '{"RegionName":"ct-region","ProviderName":"CLOUDTWIN","KeyValueInfoList":[{"Key":"Region","Value":"default"}]}' >/dev/null
for c in $(seq "$CLOUDS"); do
  post /spider/credential "{\"CredentialName\":\"cred-$c\",\"ProviderName\":\"CLOUDTWIN\",\"KeyValueInfoList\":[{\"Key\":\"DomainName\",\"Value\":\"cloud-$c\"}]}" >/dev/null
  post /spider/connectionconfig "{\"ConfigName\":\"conn-$c\",\"ProviderName\":\"CLOUDTWIN\",\"DriverName\":\"ct\",\"CredentialName\":\"cred-$c\",\"RegionName\":\"ct-region\"}" >/dev/null
  post /spider/vpc "{\"ConnectionName\":\"conn-$c\",\"ReqInfo\":{\"Name\":\"vpc\",\"IPv4_CIDR\":\"10.0.0.0/16\",\"SubnetInfoList\":[{\"Name\":\"sn\",\"IPv4_CIDR\":\"10.0.1.0/24\"}]}}" >/dev/null
  post /spider/securitygroup "{\"ConnectionName\":\"conn-$c\",\"ReqInfo\":{\"Name\":\"sg\",\"VPCName\":\"vpc\"}}" >/dev/null
  post /spider/keypair "{\"ConnectionName\":\"conn-$c\",\"ReqInfo\":{\"Name\":\"kp\"}}" >/dev/null
done

echo "== create $((CLOUDS * PER)) VMs, $CONC at a time (each POST /vm blocks until Running)"
start=$(date +%s.%N)
for c in $(seq "$CLOUDS"); do for i in $(seq "$PER"); do echo "$c $i"; done; done |
  xargs -P "$CONC" -n 2 sh -c 'curl -sS -o /dev/null -w "%{http_code}\n" -X POST "'"$url"'/spider/vm" -H "Content-Type: application/json" -d "{\"ConnectionName\":\"conn-$0\",\"ReqInfo\":{\"Name\":\"vm-$0-$1\",\"ImageName\":\"ubuntu18.04-sshd-systemd\",\"VMSpecName\":\"spec-1\",\"VPCName\":\"vpc\",\"SubnetName\":\"sn\",\"SecurityGroupNames\":[\"sg\"],\"KeyPairName\":\"kp\"}}"' \
  > "$work/codes"
end=$(date +%s.%N)
echo "answers: $(wc -l < "$work/codes") of $((CLOUDS * PER)); by status: $(sort "$work/codes" | uniq -c | tr '\n' ' ')"
echo "wall: $(echo "$end - $start" | bc) s"
curl -s "$url/metrics" | grep -E '^cloudtwin_(lag_seconds|sim_time_seconds|api_waiting|vms\{)'

echo "== wrk: GET /spider/vmstatus/{Name}, $SECS s"
wrk -t2 -c64 -d"${SECS}s" --latency -s "$here/vmstatus.lua" "$url"
curl -s "$url/metrics" | grep -E '^cloudtwin_(lag_seconds|sim_time_seconds|paced_time_seconds|events_total)'

kill -INT $pid; wait $pid || true
grep -E '"(max_lag_s|mean_lag_s|requests|wall_time_s)"' "$work/out/manifest.json"
du -sh "$work/out/api_journal.jsonl"
