"""The native module (PyO3). Use the functions of :mod:`cloudtwin`, which wrap these."""

from typing import Any, Dict, List, Optional, Tuple

import pyarrow

__version__: str

def run(
    scenario: str,
    is_text: bool,
    sets: List[str],
    out: Optional[str] = None,
    force: bool = False,
    size_check: bool = True,
) -> Tuple[List[Tuple[str, float]], List[Tuple[str, pyarrow.RecordBatch]], Optional[str]]: ...
def load(folder: str) -> Tuple[List[Tuple[str, Optional[float]]], List[Tuple[str, pyarrow.RecordBatch]]]: ...
def read_table(folder: str, csv_name: str) -> Optional[pyarrow.RecordBatch]: ...
def sweep(
    scenario: str,
    is_text: bool,
    sets: List[str],
    vary: List[str],
    out: str,
    replications: Optional[int] = None,
    threads: Optional[int] = None,
    force: bool = False,
    size_check: bool = True,
) -> Dict[str, Any]: ...
def validate(scenario: str, is_text: bool, sets: List[str], size_check: bool = True) -> str: ...
def latency(
    regions: List[str], stat: str, seed: int = 1, measured: Optional[str] = None
) -> pyarrow.RecordBatch: ...
