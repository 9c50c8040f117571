"""Logging to stderr only: stdout carries the LSP messages."""

from __future__ import annotations

import logging
import sys

LEVELS = {"error": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO,
          "debug": logging.DEBUG, "trace": 5}
TRACE = 5
logging.addLevelName(TRACE, "TRACE")


def setup_logging(level: str = "info", file: str | None = None) -> None:
    handler: logging.Handler = (
        logging.FileHandler(file) if file else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(drop_pygls_structure_dumps)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    set_level(level)


def drop_pygls_structure_dumps(record: logging.LogRecord) -> bool:
    """pygls logs a long traceback for every message that does not fit its type;
    tenon.transport logs one line for it instead (a hostile client must not flood the log)."""
    return not (record.name.startswith("pygls") and isinstance(record.msg, str)
                and record.msg.startswith("Unable to deserialize message"))


def set_level(level: str) -> None:
    """Tenon's own loggers at ``level``; other libraries at warnings and above."""
    for name in ("tenon", "tenon_train"):
        logging.getLogger(name).setLevel(LEVELS.get(level, logging.INFO))
    logging.getLogger().setLevel(logging.WARNING)


def document_text_allowed() -> bool:
    """Document text goes to the log only at trace level."""
    return logging.getLogger("tenon").isEnabledFor(TRACE)
