#!/usr/bin/env python3
"""Build models/specs.csv from the shared reference data (standard library only).

Run from the repository root:  python3 models/tools/build_specs.py [DATA_DIR]
DATA_DIR defaults to ../shared/data (relative to the repository root).
Input: cloudbarista_specs.csv (CB-Tumblebug v0.7.0 assets/cloudspec.csv, Apache-2.0; provenance in
DATA_DIR/SOURCES.md and models/README.md). Regions are checked against models/regions.csv.

The input has no vCPU or memory columns. They are decoded from the spec names with each provider's
naming convention and published size tables (the tables below). Every row's `derivation` says how:
`exact:<rule>` for a name decoded by a documented rule or table, `estimate:<reason>` otherwise.
Every rule is explained in models/README.md.
"""
import csv
import re
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"
REGIONS = ROOT / "models" / "regions.csv"
OUT = ROOT / "models" / "specs.csv"
COLUMNS = ["provider", "region", "spec", "vcpu", "memory_gib", "cost_per_hour", "score", "derivation"]

# Source regions that models/regions.csv does not have. Their rows are dropped: the simulator cannot
# place a VM in a region it has no coordinates, zones or latency for. Any other unknown region is an error.
DROP_REGIONS = {
    ("alibaba", "ap-southeast-2"): "Sydney: closed per Alibaba Cloud endpoint docs, excluded from regions.csv",
    ("alibaba", "ap-south-1"): "Mumbai: closed per Alibaba Cloud endpoint docs, excluded from regions.csv",
    ("tencent", "eu-moscow"): "Moscow: in neither regions.csv input (CB-Tumblebug cloudinfo.yaml no longer lists it)",
}

# ---------------------------------------------------------------------------------------------
# AWS: <family>.<size>. Size word -> vCPU (large 2, xlarge 4, Nxlarge 4N); memory = vCPU x the
# family's GiB per vCPU, from the EC2 instance type tables (every size of these families has the
# same ratio). Sizes that break the rule are in AWS_TABLE with their published values.
AWS_GIB_PER_VCPU = {
    "m4": 4, "m5": 4, "m5a": 4, "m5ad": 4, "m5d": 4, "m5zn": 4,
    "t2": 4, "t3": 4, "t3a": 4,                      # large and up; smaller sizes in AWS_TABLE
    "c4": 1.875, "c5": 2, "c5a": 2, "c5d": 2, "c5n": 2.625,
    "r4": 7.625, "r5": 8, "r5a": 8, "r5ad": 8, "r5d": 8, "r5n": 8,
    "x1e": 30.5, "z1d": 8,
    "d2": 7.625, "i3": 7.625, "i3en": 8,
    "g3": 7.625, "g3s": 7.625, "g4dn": 4, "p2": 15.25, "p3": 7.625, "inf1": 2,
}
AWS_TABLE = {  # (vCPU, GiB), published values for sizes outside the rule
    "t2.nano": (1, 0.5), "t2.micro": (1, 1), "t2.small": (1, 2), "t2.medium": (2, 4),
    "t3.nano": (2, 0.5), "t3.micro": (2, 1), "t3.small": (2, 2), "t3.medium": (2, 4),
    "t3a.nano": (2, 0.5), "t3a.micro": (2, 1), "t3a.small": (2, 2), "t3a.medium": (2, 4),
    "c4.8xlarge": (36, 60), "d2.8xlarge": (36, 244),
}
AWS_GIB_PER_VCPU_GUESS = {"m": 4, "t": 4, "c": 2, "r": 8, "x": 16, "z": 8, "i": 8, "d": 8, "g": 4, "p": 8}


def size_vcpu(size):
    """AWS/Alibaba size word -> vCPU: large 2, xlarge 4, <N>xlarge 4N. None otherwise."""
    if size == "large":
        return 2
    m = re.fullmatch(r"(\d*)xlarge", size)
    return 4 * int(m[1] or 1) if m else None


def fmt(x):
    return f"{x:.4f}".rstrip("0").rstrip(".")


def aws(name):
    if name in AWS_TABLE:
        v, m = AWS_TABLE[name]
        return v, m, "exact:AWS published size table (irregular size)"
    family, _, size = name.partition(".")
    v = size_vcpu(size)
    if v and family in AWS_GIB_PER_VCPU:
        r = AWS_GIB_PER_VCPU[family]
        return v, v * r, f"exact:size {size}={v} vCPU x {family} {fmt(r)} GiB/vCPU"
    r = AWS_GIB_PER_VCPU_GUESS.get(family[:1], 4)
    return v or 2, (v or 2) * r, f"estimate:unknown AWS family/size; {fmt(r)} GiB/vCPU by class letter"


# ---------------------------------------------------------------------------------------------
# Azure: Standard_<series><vCPUs>[variant letters][_v<N>]. vCPU is the number in the name;
# memory = vCPU x the series' GiB per vCPU. The B-series (burstable) does not have a fixed ratio,
# so its sizes are taken from the published table.
AZURE_TABLE = {  # (vCPU, GiB)
    "Standard_B1ls": (1, 0.5), "Standard_B1s": (1, 1), "Standard_B1ms": (1, 2),
    "Standard_B2s": (2, 4), "Standard_B2ms": (2, 8), "Standard_B4ms": (4, 16),
    "Standard_B8ms": (8, 32), "Standard_B12ms": (12, 48), "Standard_B16ms": (16, 64),
    "Standard_B20ms": (20, 80),
}


def azure_ratio(series, variant, version):
    """GiB per vCPU of a series, or None when no single documented ratio applies."""
    if series == "A" and version == 2:
        return 8 if "m" in variant else 2            # Av2: A1_v2 1/2 ... ; A2m_v2 2/16 ...
    if series == "D" and version >= 3:
        return 2 if "l" in variant else 4            # Dv3/Dv4/Dv5 (a, d, s variants) 4; Dl*_v5 2
    if series == "E" and version >= 3:
        return 8                                     # Ev3/Ev4/Ev5 (a, d, s variants); E64(i)_v3 excepted below
    if series == "F" and version == 2:
        return 2                                     # Fsv2
    return None


def azure(name):
    if name in AZURE_TABLE:
        v, m = AZURE_TABLE[name]
        return v, m, "exact:Azure published size table (B-series burstable)"
    mt = re.fullmatch(r"Standard_([A-Z]+)(\d+)([a-z]*)(?:_v(\d+))?", name)
    if not mt:
        return 2, 8, "estimate:unparsed Azure name; 2 vCPU 4 GiB/vCPU assumed"
    series, v, variant, version = mt[1], int(mt[2]), mt[3], int(mt[4] or 1)
    r = azure_ratio(series, variant, version)
    if r is not None and not (series == "E" and v == 64 and version == 3):
        return v, v * r, f"exact:vCPU in name; {series}v{version} series {fmt(r)} GiB/vCPU"
    return v, v * 4, f"estimate:no fixed ratio known for Azure {series}v{version}; 4 GiB/vCPU assumed"


# ---------------------------------------------------------------------------------------------
# GCP: <series>-<type>-<vCPUs>; memory = vCPU x GB per vCPU of (series, type). Compute Engine's
# "GB" is 2^30 bytes (n1-standard-1 reports memoryMb 3840 = 3.75 GiB), so values are GiB.
# Shared-core types have fixed published sizes; vcpu is the vCPU count the guest sees.
GCP_GB_PER_VCPU = {
    ("n1", "standard"): 3.75, ("n1", "highmem"): 6.5, ("n1", "highcpu"): 0.9,
    ("n2", "standard"): 4, ("n2", "highmem"): 8, ("n2", "highcpu"): 1,
    ("n2d", "standard"): 4, ("n2d", "highmem"): 8, ("n2d", "highcpu"): 1,
    ("e2", "standard"): 4, ("e2", "highmem"): 8, ("e2", "highcpu"): 1,
    ("c2", "standard"): 4, ("t2d", "standard"): 4,
}
GCP_TABLE = {  # (guest vCPUs, GB, note)
    "f1-micro": (1, 0.6, "shared core; 0.2 vCPU sustained"),
    "g1-small": (1, 1.7, "shared core; 0.5 vCPU sustained"),
    "e2-micro": (2, 1, "shared core; 0.25 vCPU sustained"),
    "e2-small": (2, 2, "shared core; 0.5 vCPU sustained"),
    "e2-medium": (2, 4, "shared core; 1 vCPU sustained"),
}


def gcp(name):
    if name in GCP_TABLE:
        v, m, note = GCP_TABLE[name]
        return v, m, f"exact:GCP published shared-core table ({note})"
    mc = re.fullmatch(r"(?:(\w+)-)?custom-(\d+)-(\d+)(?:-ext)?", name)
    if mc:
        return int(mc[2]), int(mc[3]) / 1024, "exact:custom type: vCPU and memory MiB in name"
    mt = re.fullmatch(r"([a-z0-9]+)-([a-z]+)-(\d+)", name)
    if mt and (mt[1], mt[2]) in GCP_GB_PER_VCPU:
        v, r = int(mt[3]), GCP_GB_PER_VCPU[(mt[1], mt[2])]
        return v, v * r, f"exact:vCPU in name; {mt[1]}-{mt[2]} {fmt(r)} GB/vCPU"
    v = int(mt[3]) if mt else 2
    return v, v * 4, "estimate:unknown GCP series/type; 4 GB/vCPU assumed"


# ---------------------------------------------------------------------------------------------
# Alibaba: ecs.<family>.<size>. Size word -> vCPU (large 2, xlarge 4, Nxlarge 4N); memory = vCPU x
# the family's CPU:memory ratio. Published sizes that break the rule, and the retired sn1/sn2
# families (their own size words: sn2.medium = 2 vCPU), are in ALIBABA_TABLE.
ALIBABA_GIB_PER_VCPU = {
    "g5": 4, "g5ne": 4, "g6": 4, "g6e": 4, "g6a": 4, "g7": 4, "g7a": 4, "g7ne": 4, "sn2ne": 4,
    "c5": 2, "c6": 2, "c6e": 2, "c6a": 2, "c7": 2, "c7a": 2, "sn1ne": 2,
    "r5": 8, "r6": 8, "r6e": 8, "r6a": 8, "r7": 8, "r7a": 8, "se1ne": 8,
}
ALIBABA_TABLE = {  # (vCPU, GiB), ECS instance family docs
    "ecs.g6.13xlarge": (52, 192), "ecs.g6.26xlarge": (104, 384),
    "ecs.g6e.13xlarge": (52, 192), "ecs.g6e.26xlarge": (104, 384),
    "ecs.sn2.medium": (2, 8), "ecs.sn2.large": (4, 16), "ecs.sn2.xlarge": (8, 32),
    "ecs.sn2.3xlarge": (16, 64), "ecs.sn2.7xlarge": (32, 128), "ecs.sn2.13xlarge": (56, 224),
}


def alibaba(name):
    if name in ALIBABA_TABLE:
        v, m = ALIBABA_TABLE[name]
        return v, m, "exact:Alibaba published instance type table (size outside the naming rule)"
    _, family, size = (name.split(".") + ["", ""])[:3]
    v = size_vcpu(size)
    if v and family in ALIBABA_GIB_PER_VCPU:
        r = ALIBABA_GIB_PER_VCPU[family]
        return v, v * r, f"exact:size {size}={v} vCPU x {family} {fmt(r)} GiB/vCPU"
    r = {"g": 4, "c": 2, "r": 8}.get(family[:1], 4)
    return v or 2, (v or 2) * r, f"estimate:unknown Alibaba family/size; {fmt(r)} GiB/vCPU by class letter"


# ---------------------------------------------------------------------------------------------
# IBM VPC profiles: <family>-<vCPUs>x<GiB>.  Tencent CVM: <family>.<SIZE><GiB>, SIZE word -> vCPU.
TENCENT_SIZE = {"SMALL": 1, "MEDIUM": 2, "LARGE": 4}


def ibm(name):
    m = re.fullmatch(r"[a-z0-9]+-(\d+)x(\d+)", name)
    if m:
        return int(m[1]), int(m[2]), "exact:vCPU and GiB in profile name (<family>-<vCPU>x<GiB>)"
    return 2, 8, "estimate:unparsed IBM profile; 2 vCPU 8 GiB assumed"


def tencent(name):
    m = re.fullmatch(r"[A-Z0-9]+\.(\d*)(SMALL|MEDIUM|LARGE|XLARGE)(\d+)", name)
    if m:
        n, word, gib = m[1], m[2], int(m[3])
        v = 4 * int(n) if word == "XLARGE" and n else TENCENT_SIZE.get(word) if not n else None
        if v:
            return v, gib, f"exact:size {n}{word}={v} vCPU; GiB after size word"
    return 2, 4, "estimate:unparsed Tencent type; 2 vCPU 4 GiB assumed"


DECODERS = {"aws": aws, "azure": azure, "gcp": gcp, "alibaba": alibaba, "ibm": ibm, "tencent": tencent}


def main():
    known = {(r["provider"], r["region"]) for r in csv.DictReader(open(REGIONS, newline=""))}
    src = list(csv.DictReader(open(DATA / "cloudbarista_specs.csv", newline="", encoding="utf-8")))
    rows, dropped, seen = [], Counter(), set()
    for s in src:
        p = s["providerName"].strip().lower()
        assert p in DECODERS, f"no decoder for provider {p}"
        rn = s["regionName"].strip()
        assert rn.startswith(p + "-"), f"regionName {rn} lacks the {p}- prefix"
        region = rn[len(p) + 1:]
        if (p, region) not in known:
            assert (p, region) in DROP_REGIONS, f"{p}:{region} is not in regions.csv and not in DROP_REGIONS"
            dropped[(p, region)] += 1
            continue
        spec = s["cspSpecName"].strip()
        assert (p, region, spec) not in seen, f"duplicate {p} {region} {spec}"
        seen.add((p, region, spec))
        vcpu, mem, how = DECODERS[p](spec)
        cost, score = s["CostPerHour"].strip(), s["evaluationScore01"].strip()
        assert isinstance(vcpu, int) and vcpu >= 1, (spec, vcpu)
        assert mem > 0, (spec, mem)
        assert float(cost) >= 0, (spec, cost)
        if score:
            float(score)
        assert "," not in how
        rows.append([p, region, spec, vcpu, fmt(mem), cost, score, how])

    rows.sort(key=lambda r: (r[0], r[1], float(r[5]), r[2]))
    with open(OUT, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        w.writerows(rows)

    print(f"read {len(src)} source rows; wrote {OUT} ({len(rows)} rows)")
    for (p, r), n in sorted(dropped.items()):
        print(f"dropped {n} rows of {p}:{r} (not in regions.csv: {DROP_REGIONS[(p, r)]})")
    kind = Counter((r[0], r[7].split(":")[0]) for r in rows)
    provs = sorted({r[0] for r in rows})
    print("\n| provider | rows | specs | regions | exact | estimate | $/vCPU-h min | median | max |")
    print("|---|---|---|---|---|---|---|---|---|")
    for p in provs:
        pr = [r for r in rows if r[0] == p]
        per = [float(r[5]) / r[3] for r in pr]
        print(f"| {p} | {len(pr)} | {len({r[2] for r in pr})} | {len({r[1] for r in pr})} | "
              f"{kind[(p, 'exact')]} | {kind[(p, 'estimate')]} | "
              f"{min(per):.4f} | {statistics.median(per):.4f} | {max(per):.4f} |")
    ne = sum(n for (_, k), n in kind.items() if k == "exact")
    print(f"| **total** | **{len(rows)}** | | | **{ne}** | **{len(rows) - ne}** | | | |\n")
    ex = defaultdict(dict)
    for r in rows:
        ex[r[0]].setdefault(r[2], (r[3], r[4], r[7]))
    print("examples (spec -> vCPU / GiB : derivation):")
    for p in provs:
        names = sorted(ex[p])
        for n in names[:: max(1, len(names) // 6)][:7]:
            v, m, how = ex[p][n]
            print(f"  {p:8} {n:18} -> {v:>3} / {m:>6}  {how}")


if __name__ == "__main__":
    main()
