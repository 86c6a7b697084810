"""Parquet output read back with pyarrow: the same rows as the CSV files, typed columns,
zstd pages, dictionary-encoded strings, byte-identical for one seed."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import cloudtwin
from conftest import SCENARIOS
from test_run import assert_same_values

POC = str(SCENARIOS / "poc-timeline.toml")
BOTH = {"output.formats": ["csv", "parquet"], "output.vm_events": True, "output.report": False}


def test_parquet_round_trip_with_pyarrow(tmp_path):
    r = cloudtwin.run(POC, set=BOTH, out=tmp_path / "a")
    cloudtwin.run(POC, set=BOTH, out=tmp_path / "b")
    csvs = sorted((tmp_path / "a").glob("*.csv"))
    assert len(csvs) >= 6
    for csv in csvs:
        parquet = csv.with_suffix(".parquet")
        assert parquet.read_bytes() == (tmp_path / "b" / parquet.name).read_bytes(), parquet.name
        table = pq.read_table(parquet)
        frame = table.to_pandas()
        assert_same_values(csv.stem, frame, pd.read_csv(csv))
        if csv.stem != "summary":
            # The in-memory tables have exactly the Parquet files' types and values.
            pd.testing.assert_frame_equal(frame, r.tables[csv.stem], obj=csv.stem)
        meta = pq.ParquetFile(parquet).metadata
        assert meta.created_by.startswith("cloudtwin ")
        for i in range(meta.num_columns):
            col = meta.row_group(0).column(i) if meta.num_row_groups else None
            if col is None:
                continue
            assert col.compression == "ZSTD"
            if table.schema.field(i).type == pa.string():
                assert any("DICTIONARY" in e for e in col.encodings), (parquet.name, col.encodings)
    events = pq.read_table(tmp_path / "a" / "vm_events.parquet").schema
    assert events.field("time_s").type == pa.float64()
    assert events.field("cloud").type == pa.string()


def test_a_parquet_only_run_loads_like_a_csv_run(tmp_path):
    only = dict(BOTH, **{"output.formats": ["parquet"]})
    r = cloudtwin.run(POC, set=only, out=tmp_path / "pq")
    assert not list((tmp_path / "pq").glob("*.csv"))
    back = cloudtwin.load(tmp_path / "pq")
    pd.testing.assert_series_equal(back.summary, r.summary)
    for name in r.tables:
        pd.testing.assert_frame_equal(back.tables[name], r.tables[name], obj=name)
