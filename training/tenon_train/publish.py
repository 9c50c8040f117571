"""Publishing bundles: versioned folders under ``models/`` and an atomic ``current`` link.

Publishing copies nothing: the bundle folder already sits in ``models/``. Switching is one
``rename`` of a symbolic link, which is atomic: a crash leaves either the old or the new
bundle current, never neither. The server follows the link.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tenon.bundle import load_bundle
from tenon.paths import TenonHome


def versions(home: TenonHome) -> list[Path]:
    """Published bundle folders, oldest first (by modification time)."""
    if not home.models.is_dir():
        return []
    found = [p for p in home.models.iterdir()
             if p.is_dir() and not p.is_symlink() and (p / "manifest.json").is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime)


def current(home: TenonHome) -> Path | None:
    link = home.current
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def switch_current(home: TenonHome, bundle: Path) -> None:
    """Point ``current`` at ``bundle`` after checking it loads; atomic.

    Killed at any step, it leaves ``current`` pointing at the old bundle or the new one
    (tests/integration/test_publish_kill.py kills it before every file-system step).
    """
    load_bundle(bundle)  # refuse to publish what the server would refuse to serve
    home.models.mkdir(parents=True, exist_ok=True)
    remove_stale_links(home)
    tmp = home.models / f".current.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(os.path.relpath(bundle.resolve(), home.models.resolve()), tmp)
    os.replace(tmp, home.current)
    _sync(home.models)


def remove_stale_links(home: TenonHome) -> None:
    """Temporary links left by publishers that were killed before their rename."""
    for link in home.models.glob(".current.*"):
        pid = link.name.rpartition(".")[2]
        if link.is_symlink() and pid.isdigit() and not _running(int(pid)):
            link.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sync(folder: Path) -> None:
    """Make the rename durable (a power cut, not only a killed process, keeps it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def prune(home: TenonHome, keep: int) -> list[Path]:
    """Delete the oldest versions beyond ``keep``, never the current one."""
    live = current(home)
    old = [p for p in versions(home) if p.resolve() != live]
    removed = old[: max(0, len(old) - max(keep - 1, 0))]
    for path in removed:
        shutil.rmtree(path)
    return removed
