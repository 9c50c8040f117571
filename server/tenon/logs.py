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
    root = logging.getLogger()
    root.handlers[:] = [handler]
    set_level(level)


def set_level(level: str) -> None:
    """Tenon's own loggers at ``level``; other libraries at warnings and above."""
    for name in ("tenon", "tenon_train"):
        logging.getLogger(name).setLevel(LEVELS.get(level, logging.INFO))
    logging.getLogger().setLevel(logging.WARNING)


def document_text_allowed() -> bool:
    """Document text goes to the log only at trace level."""
    return logging.getLogger("tenon").isEnabledFor(TRACE)
