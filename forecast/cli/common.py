"""What the command modules share: defaults, exit statuses, and a few ways of saying things."""

from __future__ import annotations

import sys
from pathlib import Path

from forecast.config import repo_path

#: The question every command takes by default: the repository's, wherever the command runs.
DEFAULT_QUESTION = repo_path(Path("priors") / "russia_syria_bases")
EXIT_INPUT, EXIT_UNCONVERGED, EXIT_LOCKED = 2, 3, 4
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a program killed by it
#: Said on stderr when ``--issue`` meets a forecast that failed its gate.
NOT_ISSUED = "WARNING: not issued into the record: the forecast FAILED its convergence gate"


def exit_code(exc: Exception) -> int:
    """The exit status of an error the command line reports in one line."""
    from forecast.errors import LockedError

    return EXIT_LOCKED if isinstance(exc, LockedError) else EXIT_INPUT


def pct(p: float) -> str:
    """A probability as a right-aligned percentage, ``' 42.0%'``."""
    return f"{100 * p:5.1f}%"


def labels(config) -> dict[str, str]:
    """Each outcome's name by its id, the joint outcomes by their wording."""
    return {o.id: o.name for o in config.question.outcomes} | {
        "all": config.wording.all, "any": config.wording.any}


def failed(diagnostics: dict) -> str:
    """A fit's convergence-gate failures, joined: 'R-hat 1.07 > 1.01; ...'."""
    return "; ".join(diagnostics["failures"])


def gate(fc, what: str) -> int:
    """0, or :data:`EXIT_UNCONVERGED` if ``fc`` failed its convergence gate (then said so,
    in capitals, on stderr; the output of ``what`` is given all the same, as ``run``'s is)."""
    if fc.fit.diagnostics["passed"]:
        return 0
    print(f"WARNING: the forecast behind {what} FAILED its convergence gate "
          f"({failed(fc.fit.diagnostics)}); "
          "do not brief these numbers", file=sys.stderr)
    return EXIT_UNCONVERGED


def issued_text(entry: dict, config) -> str:
    """Where ``--issue`` put a forecast: the record's file, the entry's stamp and ledger."""
    from forecast.record import record_path

    return (f"issued into {record_path(config)} at {entry['issued']} (as of "
            f"{entry['as_of']}, {entry['ledger']['items']} items)")


def headless() -> None:
    """Charts are files here: draw without a screen, whatever the desktop offers.

    Only the commands that draw call it, and only for this process: the library
    never picks a backend (so notebooks show charts inline), and the environment
    is left alone (a kernel started from this process must not inherit Agg).
    """
    import matplotlib

    matplotlib.use("Agg")
