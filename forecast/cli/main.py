"""``forecast``'s entry point: run a command, map its errors to exit statuses.

Input errors are one line on stderr and exit status 2, a held lock 4; the
library's warnings about the input are ``warning: ...`` lines, each once; a
closed pipe ends the command quietly.
"""

from __future__ import annotations

import os
import sys
import warnings

from forecast.cli.common import EXIT_BROKEN_PIPE, exit_code
from forecast.cli.parser import build_parser
from forecast.errors import ConfigError, LedgerError, LockedError


def _warnings_as_lines() -> None:
    """Show the library's warnings about the input as ``warning: ...`` lines on stderr.

    Each is shown once per command, however often the library meets the interval
    again; other warnings are shown as Python shows them. Call inside
    ``warnings.catch_warnings()``, which restores the previous handling.
    """
    from forecast.elicit import DegenerateIntervalWarning

    shown: set[str] = set()
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, DegenerateIntervalWarning):
            return default(message, category, filename, lineno, file, line)
        if str(message) not in shown:
            shown.add(str(message))
            print(f"warning: {message}", file=sys.stderr)
        return None

    warnings.simplefilter("always", DegenerateIntervalWarning)
    warnings.showwarning = show


def main(argv: list[str] | None = None) -> int:
    """Run the ``forecast`` command; return its exit status (2 bad input, 3 unconverged,
    4 a file locked by another writer)."""
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            _warnings_as_lines()
            code = args.func(args)
        sys.stdout.flush()  # inside the try: a closed pipe is met here for short output
        return code
    except (ConfigError, LedgerError, LockedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_code(exc)
    except BrokenPipeError:
        # The reader (e.g. `| head`) closed the pipe: what was to be written is not wanted,
        # and whatever the command recorded is already on disk. Silence the final flush.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
