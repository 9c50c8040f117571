"""Work-done progress the server starts itself, safe to report from the inference thread."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types

if TYPE_CHECKING:
    from tenon.server import TenonServer

log = logging.getLogger(__name__)


def client_supports_progress(ls: TenonServer) -> bool:
    window = ls.client_capabilities.window
    return bool(window and window.work_done_progress)


class WorkProgress:
    """``async with WorkProgress(ls, "title") as progress: progress.report("msg", 40)``."""

    def __init__(self, ls: TenonServer, title: str) -> None:
        self._ls = ls
        self._title = title
        self._token = f"tenon-{uuid.uuid4()}"
        self._loop = asyncio.get_running_loop()
        self._enabled = client_supports_progress(ls)
        self.final_message = ""

    async def __aenter__(self) -> WorkProgress:
        if self._enabled:
            try:
                await self._ls.work_done_progress.create_async(self._token)
                self._ls.work_done_progress.begin(self._token, types.WorkDoneProgressBegin(
                    title=self._title, cancellable=False, percentage=0))
            except Exception:  # the client refused: work on without progress
                log.debug("progress not created", exc_info=True)
                self._enabled = False
        return self

    def report(self, message: str, percentage: int) -> None:
        """Thread-safe: posts the report to the event loop."""
        if self._enabled:
            value = types.WorkDoneProgressReport(message=message, percentage=percentage)
            self._loop.call_soon_threadsafe(self._ls.work_done_progress.report, self._token, value)

    async def __aexit__(self, *_exc: Any) -> None:
        if self._enabled:
            self._ls.work_done_progress.end(
                self._token, types.WorkDoneProgressEnd(message=self.final_message or None))
