"""Type stubs of the cloudtwin package (see ``__init__.py`` for the docstrings)."""

import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import pandas as pd

from .errors import CloudtwinError as CloudtwinError
from .errors import InputError as InputError
from .errors import RunError as RunError
from .errors import ScenarioError as ScenarioError

__version__: str

Scenario = Union[str, os.PathLike[str]]
PathArg = Union[str, os.PathLike[str]]

class Run:
    summary: pd.Series
    tables: Dict[str, pd.DataFrame]
    folder: Optional[Path]
    def __init__(
        self, summary: pd.Series, tables: Dict[str, pd.DataFrame], folder: Optional[Path]
    ) -> None: ...
    def __getitem__(self, table: str) -> pd.DataFrame: ...

class Sweep:
    summary: pd.DataFrame
    runs: pd.DataFrame
    axes: List[str]
    folder: Path
    def run(self, which: Union[int, str]) -> Run: ...
    def __len__(self) -> int: ...

def run(
    scenario: Scenario,
    *,
    seed: Optional[int] = None,
    set: Optional[Mapping[str, Any]] = None,
    out: Optional[PathArg] = None,
    force: bool = False,
    size_check: bool = True,
) -> Run: ...
def load(folder: PathArg) -> Run: ...
def sweep(
    scenario: Scenario,
    vary: Optional[Mapping[str, Union[Sequence[Any], Any]]] = None,
    *,
    replications: Optional[int] = None,
    threads: Optional[int] = None,
    set: Optional[Mapping[str, Any]] = None,
    out: Optional[PathArg] = None,
    force: bool = False,
    size_check: bool = True,
) -> Sweep: ...
def load_sweep(folder: PathArg) -> Sweep: ...
def validate(
    scenario: Scenario, *, set: Optional[Mapping[str, Any]] = None, size_check: bool = True
) -> Dict[str, Any]: ...
def latency(
    regions: Union[str, Sequence[str]],
    stat: str = "p50",
    *,
    seed: int = 1,
    measured: Optional[PathArg] = None,
) -> pd.DataFrame: ...
