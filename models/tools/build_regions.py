#!/usr/bin/env python3
"""Build models/regions.csv from the shared reference data (standard library only).

Run from the repository root:  python3 models/tools/build_regions.py [DATA_DIR]
DATA_DIR defaults to ../shared/data (relative to the repository root).
Inputs: region_coords.csv, cloudbarista_regions.csv (provenance: DATA_DIR/SOURCES.md
and models/README.md). Every rule below is explained in models/README.md.
"""
import csv
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"
OUT = ROOT / "models" / "regions.csv"

# region_coords code -> CB-Tumblebug code of the same physical region.
RENAMES = {
    ("alibaba", "cn-ulanqab"): "cn-wulanchabu",
    ("alibaba", "cn-wuhan"): "cn-wuhan-lr",
    ("alibaba", "me-east-1"): "me-central-1",  # region_coords row is Riyadh = me-central-1; me-east-1 is Dubai
    ("aws", "ap-east-2"): "ap-southeast-6",    # region_coords row is Auckland = ap-southeast-6; ap-east-2 is Taipei
    ("ibm", "eu-sp"): "eu-es",
    ("tencent", "sl-saopaulo"): "sa-saopaulo",
}

# Rows left out although present (and "in service") in an input file.
EXCLUDE = {
    ("azure", "brazilus"): "logical region, coordinates 0,0",
    ("azure", "centraluseuap"): "canary (EUAP), not a customer region",
    ("azure", "eastus2euap"): "canary (EUAP), not a customer region",
    ("azure", "eastusstg"): "staging, not a customer region",
    ("azure", "southcentralusstg"): "staging, not a customer region",
    ("alibaba", "ap-south-1"): "Mumbai, closed per Alibaba Cloud endpoint docs",
    ("alibaba", "ap-southeast-2"): "Sydney, closed per Alibaba Cloud endpoint docs",
    ("openstack-ex01", "RegionOne"): "'virtual region', placeholder coordinates",
}

# region_coords values that are plainly wrong: (city, lat, lon, reason). Marked coords=corrected.
FIXES = {
    ("aws", "us-west-1"): ("San Francisco", 37.777125, -122.419644, "swapped with us-west-2 in region_coords"),
    ("aws", "us-west-2"): ("Hermiston", 45.919796, -119.338855, "swapped with us-west-1 in region_coords"),
    ("aws", "cn-northwest-1"): ("Zhongwei", 37.5167, 105.1893, "Ningxia, not Ningxiang (Hunan); CB alibaba cn-zhongwei coords"),
    ("aws", "mx-central-1"): ("Querétaro", 20.5887932, -100.3898881, "region is in Querétaro, not Mexico City; CB coords"),
    ("azure", "spaincentral"): ("Madrid", 40.4259, -3.4209, "ARM longitude sign error (+3.4209 is in the sea)"),
    ("azure", "francesouth"): ("Marseille", 43.293579, 5.372507, "ARM point is 290 km from Marseille; region_coords Marseille"),
    ("azure", "germanynorth"): ("Berlin", 52.516074, 13.376987, "ARM point is Bremen; region_coords Berlin"),
    ("azure", "francecentral"): ("Paris", 48.85693, 2.3412, "ARM point is 276 km from Paris (the centre of France); region_coords Paris"),
    ("azure", "israelcentral"): ("Israel", 30.8124247, 34.8594762, "ARM point lies in Sinai (Egypt); CB coords"),
}

COUNTRY_ALIAS = {"Korea": "South Korea", "UAE": "United Arab Emirates", "USA": "United States",
                 "US": "United States", "UK": "United Kingdom"}
COUNTRY_FIX = {("azure", "eastasia"): "China", ("azure", "southeastasia"): "Singapore",
               ("azure", "northeurope"): "Ireland", ("azure", "westeurope"): "Netherlands"}


def country_of(name):
    return COUNTRY_ALIAS.get(name.strip(), name.strip())


def clean_city(city):
    city = city.split(",")[0].split("/")[0]       # "Tokyo, Saitama" -> "Tokyo"
    city = re.sub(r"\(.*?\)", "", city)            # "Seoul(Gasan)" -> "Seoul"
    return city.split(" - ")[-1].strip()           # "Mok-dong - Seoul" -> "Seoul"


def parse_display(display, countries):
    """CB-Tumblebug display text -> (city, country)."""
    if "," in display:                              # "City, Country[, Continent]"
        parts = [p.strip() for p in display.split(",")]
        country = next((country_of(p) for p in parts[1:] if country_of(p) in countries), parts[-1])
        return clean_city(parts[0]), country
    m = re.fullmatch(r"(.*?)\s*\(([^()]*)\)", display)  # last "(...)"
    if m:                                           # "Country (City)" or "City (Country)"
        a, b = country_of(m[1]), country_of(m[2])
        return (clean_city(m[1]), b) if b in countries else (clean_city(m[2]), a)
    d = country_of(display)
    if d in countries:                              # "Singapore", "Japan"
        return (d if d == "Singapore" else ""), d
    return clean_city(display), ""


def synth_zones(provider, region):
    if provider == "aws":
        return [region + s for s in "abc"]
    if provider == "gcp":
        return [f"{region}-{s}" for s in "abc"]
    if provider == "azure":
        return ["1", "2", "3"]
    if provider == "alibaba":                       # convention seen in CB: ap-northeast-2a, cn-beijing-a
        sep = "" if region[-1].isdigit() else "-"
        return [f"{region}{sep}{s}" for s in "ab"]
    return [f"{region}-1", f"{region}-2"]


def fmt(x):
    s = f"{float(x):.6f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def main():
    rc, cb = {}, {}
    with open(DATA / "region_coords.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            key = (r["provider"].strip().lower(), r["region"].strip())
            key = (key[0], RENAMES.get(key, key[1]))
            rc[key] = r
    with open(DATA / "cloudbarista_regions.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            cb[(r["csp"].strip().lower(), r["region"].strip())] = r

    countries = {country_of(r["country"]) for r in rc.values()} | set(COUNTRY_ALIAS.values())
    rows = []
    for key in sorted(set(rc) | set(cb)):
        provider, region = key
        a, b = rc.get(key), cb.get(key)
        if key in EXCLUDE or (a and not b and a["in_service"].strip() != "True"):
            continue
        if a:
            city, country = clean_city(a["city"]), COUNTRY_FIX.get(key, country_of(a["country"]))
            lat, lon = a["lat"], a["lon"]
        else:
            (city, country), lat, lon = parse_display(b["display"], countries), b["latitude"], b["longitude"]
        source = "+".join(n for n, r in (("region_coords", a), ("cloudbarista", b)) if r)
        if key in FIXES:
            city, lat, lon, _ = FIXES[key]
            source += ";coords=corrected"
        if b and (b["zones"].strip() or b["num_zones"].strip() == "0"):
            zones = b["zones"].strip()              # empty = CB says the region has no zones
        else:
            zones = ";".join(synth_zones(provider, region))
            source += ";zones=synthesised"
        rows.append([provider, region, city, country, fmt(lat), fmt(lon), zones, source])

    with open(OUT, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["provider", "region", "city", "country", "lat", "lon", "zones", "source"])
        w.writerows(rows)

    per = Counter(r[0] for r in rows)
    src = Counter(r[7].split(";")[0] for r in rows)
    print(f"wrote {OUT} ({len(rows)} rows)\n\n| provider | regions |\n|---|---|")
    for p in sorted(per):
        print(f"| {p} | {per[p]} |")
    print(f"| **total** | **{len(rows)}** |\n")
    print("rows by source:", dict(src))
    print("zones synthesised:", sum("zones=synthesised" in r[7] for r in rows),
          "| no zones (CB num_zones=0):", sum(r[6] == "" for r in rows))
    print("renamed to CB-Tumblebug codes:", ", ".join(f"{p}:{o}->{n}" for (p, o), n in RENAMES.items()))
    print("excluded:", ", ".join(f"{p}:{r}" for p, r in EXCLUDE))
    print("coords corrected:", ", ".join(f"{p}:{r}" for p, r in FIXES))


if __name__ == "__main__":
    main()
