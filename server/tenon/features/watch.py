"""Pick up a newly published (or re-exported) bundle without a restart.

Every few seconds the server looks at the bundle its settings name (by default the
``current`` link that publishing switches atomically). When the link points elsewhere or
the manifest was rewritten, the model is reloaded in the background: requests already
running finish on the old model, later ones use the new one. A bundle that fails to load
is not retried until it changes again.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from tenon.model import resolve_bundle_path

if TYPE_CHECKING:
    from tenon.server import TenonServer

log = logging.getLogger(__name__)
POLL_SECONDS = 2.0
Fingerprint = tuple[str, int, int]


def fingerprint(path: Path) -> Fingerprint | None:
    """Where the bundle really is and when its manifest was written; None if absent."""
    try:
        real = path.resolve(strict=True)
        facts = (real / "manifest.json").stat()
    except (OSError, ValueError):  # ValueError: a path no file system can hold
        return None
    return str(real), facts.st_mtime_ns, facts.st_size


async def watch(ls: TenonServer, interval: float = POLL_SECONDS) -> None:
    tried: Fingerprint | None = None
    while True:
        await asyncio.sleep(interval)
        try:
            tried = await _check(ls, tried)
        except Exception:  # the watch must outlive any one bad look at the disk
            log.exception("bundle watch: check failed")


async def _check(ls: TenonServer, tried: Fingerprint | None) -> Fingerprint | None:
    """Reload if the bundle changed since it was loaded (or last tried); the new ``tried``."""
    if not ls.settings.enable or (ls.model is None and tried is None):
        return tried
    now = fingerprint(resolve_bundle_path(ls.settings))
    loaded = ls.model.fingerprint if ls.model else None
    if now is None or now in (loaded, tried):
        return tried
    log.info("bundle changed on disk (%s): reloading", now[0])
    await ls.reload_model()
    return now

