"""The ``forecast`` command line.

One job: parse arguments, call the library (:mod:`forecast.workflow`,
:mod:`forecast.review` and the modules behind them), print a table or JSON, and
map every input error to a clear message on stderr and exit status 2 (3 when
the sampler fails its convergence gate, 4 when another writer holds the
ledger's or the record's lock too long). Nothing is written when input is bad.

``parser`` builds the arguments, ``main`` runs a command; the commands live by
job in ``questions`` (validate, run, new), ``news`` (update, retract, what-if),
``record`` (history, record, diff), ``scores`` (resolve, score, crowd),
``outputs`` (charts, report) and ``reference``.
"""

from forecast.cli.common import (
                                 DEFAULT_QUESTION,
                                 EXIT_BROKEN_PIPE,
                                 EXIT_INPUT,
                                 EXIT_LOCKED,
                                 EXIT_UNCONVERGED,
)
from forecast.cli.main import main
from forecast.cli.news import item_id_for
from forecast.cli.parser import build_parser

__all__ = ["DEFAULT_QUESTION", "EXIT_BROKEN_PIPE", "EXIT_INPUT", "EXIT_LOCKED",
           "EXIT_UNCONVERGED", "build_parser", "item_id_for", "main"]
