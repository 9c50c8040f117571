"""Publishing bundles: versioned folders under ``models/`` and an atomic ``current`` link.

A candidate is built outside ``models/`` (in its run folder), then moved in with one
``rename`` (same file system) under a new versioned name, and ``current`` is switched with
another ``rename`` of a symbolic link. Each step is atomic, so a crash at any point leaves
the previous bundle current. ``models/history.json`` (also replaced atomically) remembers
which bundles were current, newest last, for ``rollback``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

from tenon.bundle import load_bundle
from tenon.paths import TenonHome

HISTORY = "history.json"


class PublishError(Exception):
    """Publishing or rolling back was refused; nothing changed."""


def versions(home: TenonHome) -> list[Path]:
    """Published bundle folders, oldest first (by modification time)."""
    if not home.models.is_dir():
        return []
    found = [p for p in home.models.iterdir()
             if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
             and (p / "manifest.json").is_file()]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def current(home: TenonHome) -> Path | None:
    link = home.current
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def history(home: TenonHome) -> list[dict]:
    path = home.models / HISTORY
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    return data if isinstance(data, list) else []


def _write_history(home: TenonHome, entries: list[dict]) -> None:
    tmp = home.models / f".{HISTORY}.{os.getpid()}"
    tmp.write_text(json.dumps(entries[-100:], indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, home.models / HISTORY)


def switch_current(home: TenonHome, bundle: Path, reason: str = "use") -> None:
    """Point ``current`` at ``bundle`` after checking it loads; atomic.

    Killed at any step, it leaves ``current`` pointing at the old bundle or the new one
    (tests/integration/test_publish_kill.py kills it before every file-system step).
    """
    load_bundle(bundle)  # refuse to publish what the server would refuse to serve
    home.models.mkdir(parents=True, exist_ok=True)
    remove_stale_links(home)
    previous = current(home)
    tmp = home.models / f".current.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(os.path.relpath(bundle.resolve(), home.models.resolve()), tmp)
    os.replace(tmp, home.current)
    _sync(home.models)
    entries = history(home)
    if previous is not None and not entries:
        entries.append({"bundle": previous.name, "at": None, "reason": "found current"})
    entries.append({"bundle": bundle.resolve().name, "reason": reason,
                    "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
    _write_history(home, entries)


def remove_stale_links(home: TenonHome) -> None:
    """Temporary links left by publishers that were killed before their rename."""
    for link in [*home.models.glob(".current.*"), *home.models.glob(f".{HISTORY}.*")]:
        pid = link.name.rpartition(".")[2]
        if pid.isdigit() and not _running(int(pid)):
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


def publish(home: TenonHome, bundle: Path, name: str, keep: int = 3) -> Path:
    """Move a finished bundle into ``models/NAME``, make it current, prune old versions."""
    load_bundle(bundle)
    home.models.mkdir(parents=True, exist_ok=True)
    target = home.models / name
    if target.exists():
        raise PublishError(f"{target} already exists; versions are never overwritten")
    os.rename(bundle, target)
    switch_current(home, target, reason="publish")
    prune(home, keep)
    return target


def rollback(home: TenonHome) -> Path:
    """Make the bundle that was current before this one current again."""
    live = current(home)
    for entry in reversed(history(home)):
        candidate = home.models / entry["bundle"]
        if live is not None and candidate.resolve() == live:
            continue
        if (candidate / "manifest.json").is_file():
            switch_current(home, candidate, reason="rollback")
            return candidate
    raise PublishError("no earlier bundle to roll back to (see `tenon-train list`)")


def prune(home: TenonHome, keep: int) -> list[Path]:
    """Delete the oldest versions beyond ``keep``; never the current one, nor the one a
    rollback would go back to."""
    live = current(home)
    protected = {live}
    earlier = [h["bundle"] for h in history(home) if live is None or h["bundle"] != live.name]
    if earlier:
        protected.add((home.models / earlier[-1]).resolve())
    old = [p for p in versions(home) if p.resolve() not in protected]
    removed = old[: max(0, len(old) - max(keep - len(protected - {None}), 0))]
    for path in removed:
        shutil.rmtree(path)
    return removed
