"""Runs inference jobs on a dedicated thread, latest request per document wins.

pygls handles requests on its event loop; generation must not block it. Each job runs on
the runner's own single-thread executor (ONNX Runtime uses its own threads inside). A new
job for the same key (document) cancels the one before it, queued or running, and the
queue is bounded: when too many jobs wait, the oldest waiting one is cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from tenon.inference.engine import CancelToken

log = logging.getLogger(__name__)
T = TypeVar("T")


class JobCancelled(Exception):
    """The job was cancelled before or while it ran."""


@dataclass
class RunnerStats:
    submitted: int = 0
    superseded: int = 0
    dropped: int = 0
    client_cancelled: int = 0

    def snapshot(self) -> dict[str, int]:
        return {
            "submitted": self.submitted,
            "superseded": self.superseded,
            "dropped": self.dropped,
            "clientCancelled": self.client_cancelled,
        }


class InferenceRunner:
    def __init__(self, max_waiting: int = 8) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tenon-infer")
        self._latest: dict[str, CancelToken] = {}
        self._waiting: OrderedDict[int, CancelToken] = OrderedDict()
        self._lock = threading.Lock()
        self._max_waiting = max_waiting
        self.stats = RunnerStats()

    def _register(self, key: str, token: CancelToken) -> None:
        with self._lock:
            self.stats.submitted += 1
            previous = self._latest.get(key)
            if previous is not None and not previous.cancelled:
                previous.cancel("superseded")
                self.stats.superseded += 1
            self._latest[key] = token
            self._waiting[id(token)] = token
            while len(self._waiting) > self._max_waiting:
                _, oldest = self._waiting.popitem(last=False)
                oldest.cancel("dropped: too many waiting requests")
                self.stats.dropped += 1

    def _run(self, job: Callable[[CancelToken], T], token: CancelToken) -> T:
        with self._lock:
            self._waiting.pop(id(token), None)
        if token.cancelled:
            raise JobCancelled(token.reason)
        return job(token)

    def _forget(self, key: str, token: CancelToken) -> None:
        with self._lock:
            self._waiting.pop(id(token), None)
            if self._latest.get(key) is token:
                del self._latest[key]

    async def run(self, key: str, job: Callable[[CancelToken], T]) -> T:
        """Run ``job(token)`` on the inference thread; cancelling the awaiting task cancels it."""
        token = CancelToken()
        self._register(key, token)
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, self._run, job, token)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            token.cancel("cancelled by the client")
            with self._lock:
                self.stats.client_cancelled += 1
            raise
        finally:
            self._forget(key, token)

    def cancel(self, key: str, reason: str) -> None:
        """Cancel the job of ``key`` (queued or running), if any."""
        with self._lock:
            token = self._latest.get(key)
            if token is not None and not token.cancelled:
                token.cancel(reason)
                self.stats.superseded += 1

    def cancel_all(self, reason: str = "shutting down") -> None:
        with self._lock:
            for token in self._latest.values():
                token.cancel(reason)

    def shutdown(self) -> None:
        self.cancel_all()
        self._executor.shutdown(wait=False, cancel_futures=True)
