"""Every exception and warning the package raises, in one place.

The modules that raise them re-export them (``from forecast.config import ConfigError``
keeps working). Each type survives pickling with its fields, so an error raised in a
worker of ``forecast run DIR1 DIR2`` reaches the parent as it was raised: an exception
whose ``__init__`` takes other arguments than the ``args`` it hands to
``Exception.__init__`` says how to rebuild itself in ``__reduce__``.

The command line maps them to exit statuses (``forecast.cli``): the input errors
(:class:`ConfigError`, :class:`LedgerError` and their subclasses) to 2, a lock not had
in time (:class:`LockedError`) to 4.
"""

from __future__ import annotations

import os
from pathlib import Path

# ------------------------------------------------------------------ bad input (exit 2)


class ConfigError(ValueError):
    """A question file is missing, unreadable or invalid.

    The message lists every problem as ``file: field: what is wrong``; ``problems``
    holds them one by one (a single string is taken as one problem).
    """

    def __init__(self, problems: list[str] | tuple[str, ...] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))

    def __reduce__(self):
        # Exception pickles as ``cls(*self.args)``: ``args`` is the joined message, which
        # would come back as one problem per character. Rebuild from the list instead.
        return type(self), (self.problems,), self.__dict__


class ResolutionError(ConfigError):
    """A resolution is invalid, a second one, or missing when scoring."""


class CrowdError(ConfigError):
    """A crowd timeline (CSV) is missing, unreadable or invalid; nothing was written."""


class LedgerError(ValueError):
    """A news item or the ledger is invalid; nothing was written."""


class RecordError(LedgerError):
    """The record cannot be read or appended to; nothing was written."""


# ------------------------------------------------------------------ a busy file (exit 4)


class LockedError(RuntimeError):
    """Another writer held a file's lock for longer than ``timeout`` seconds; nothing was
    written. ``path`` is the file (the ledger or the record), not its ``.lock``."""

    def __init__(self, path: str | os.PathLike[str], timeout: float):
        self.path = Path(path)
        self.timeout = float(timeout)
        super().__init__(
            f"{self.path} is locked by another writer (waited {self.timeout:g} s); nothing "
            "was written. Run the command again when the other one has finished, or wait "
            "longer with FORECAST_LOCK_TIMEOUT=SECONDS")

    def __reduce__(self):
        return type(self), (self.path, self.timeout), self.__dict__


# ------------------------------------------------------------------ fits


class StaleFitError(RuntimeError):
    """A stored fit does not match the inputs it is asked to stand for, or is unreadable."""


class NeedsRefitError(RuntimeError):
    """The forecast cannot be had without sampling, and sampling was not allowed."""


# ------------------------------------------------------------------ warnings


class ConvergenceWarning(UserWarning):
    """A reference-class fit failed the convergence gate of its ``model.yaml``."""


class EngineFallbackWarning(UserWarning):
    """The exact engine's weights failed the gate and NUTS was used instead."""


class DegenerateIntervalWarning(UserWarning):
    """An elicited interval so narrow that its prior acts as a fixed number.

    The rule: the interval spans less than a factor
    :data:`forecast.elicit.DEGENERATE_FACTOR` (1.05) on the scale the model uses. For a
    probability that is the odds, ``logit(upper) - logit(lower) < log(1.05)``: near 0.5,
    ``upper - lower`` below about 0.012 (e.g. ``{lower: 0.5, upper: 0.5001}``); near 0.01,
    a relative width below about 5% (``{lower: 0.0100, upper: 0.0104}``), while
    ``{lower: 0.001, upper: 0.008}`` is a wide belief, not a point. For an odds ratio it
    is ``upper / lower < 1.05``. The rule ignores ``mass``, and the sensitivity analysis
    (which moves an interval, keeping its width on that scale) never turns a sound
    interval into a degenerate one.

    The prior is still built: a warning, not an error, because a value that is truly
    known may be written so; but neither the sensitivity analysis nor the news can then
    move it.
    """

