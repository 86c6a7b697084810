"""The exceptions of cloudtwin: every error of the simulator is one of these, never a crash.

- :class:`ScenarioError`: a scenario that cannot be used, with the file, line and key.
- :class:`InputError`: other bad input (an existing results folder, a bad sweep axis, a run
  too big for this machine, unknown regions).
- :class:`RunError`: a failure while running or writing (I/O, failed sweep runs, an internal
  error).

Ctrl-C during a run or sweep raises the usual :class:`KeyboardInterrupt` (nothing is written).
"""

from __future__ import annotations

from typing import Optional


class CloudtwinError(Exception):
    """Base class of cloudtwin's exceptions."""


class InputError(CloudtwinError, ValueError):
    """Bad input (the command-line tool exits with code 2 for the same input)."""


class ScenarioError(InputError):
    """A scenario that cannot be used.

    Attributes:
        file: the scenario file (``"<inline>"`` for TOML text), or None when an override
            (``set=``) set the bad value.
        line: 1-based line in the file, when known.
        column: 1-based column in the file, when known.
        key: dotted key path, e.g. ``"topology.mix.aws"`` (empty for file-level errors).
        message: what was expected.
        override: the ``key=value`` override that set the bad value, if one did.
    """

    def __init__(
        self,
        text: str,
        *,
        file: Optional[str] = None,
        line: Optional[int] = None,
        column: Optional[int] = None,
        key: str = "",
        message: str = "",
        override: Optional[str] = None,
    ) -> None:
        super().__init__(text)
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message or text
        self.override = override


class RunError(CloudtwinError, RuntimeError):
    """A failure while running or writing results (the command-line tool exits with code 1)."""


__all__ = ["CloudtwinError", "InputError", "ScenarioError", "RunError"]
