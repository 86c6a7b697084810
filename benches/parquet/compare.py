"""Sizes of each table of a results folder as CSV and as Parquet, and the Parquet files read
back with pyarrow: their rows must equal the CSV files' data lines. Prints a Markdown table."""

import sys
from pathlib import Path

import pyarrow.parquet as pq

folder = Path(sys.argv[1])
rows = []
total_csv = total_pq = 0
for csv in sorted(folder.glob("*.csv")):
    parquet = csv.with_suffix(".parquet")
    with open(csv, "rb") as f:
        lines = sum(1 for _ in f) - 1
    table = pq.read_table(parquet)
    assert table.num_rows == lines, f"{csv.name}: {lines} CSV rows, {table.num_rows} in Parquet"
    c, p = csv.stat().st_size, parquet.stat().st_size
    total_csv += c
    total_pq += p
    rows.append((csv.stem, lines, c, p))

print("| table | rows | CSV | Parquet | CSV / Parquet |")
print("|---|---:|---:|---:|---:|")
for name, n, c, p in sorted(rows, key=lambda r: -r[2]):
    print(f"| {name} | {n:,} | {c / 1e6:,.2f} MB | {p / 1e6:,.2f} MB | {c / p:,.1f}x |")
print(f"| **all tables** | | **{total_csv / 1e6:,.1f} MB** | **{total_pq / 1e6:,.1f} MB** | **{total_csv / total_pq:,.1f}x** |")
print("every Parquet file read back with pyarrow: same row counts as the CSV files")
