"""Runs inference jobs on a dedicated thread, latest request per document wins.

pygls handles requests on its event loop; generation must not block it. Each job runs on
the runner's own single-thread executor (ONNX Runtime uses its own threads inside). A new
job for the same key (document) cancels the one before it, queued or running, and the
queue is bounded: when too many jobs wait, the oldest waiting one is cancelled.

Coalescing: a job that arrives within ``burst_s`` of the previous one for its key (the user
is typing) waits ``settle_s`` before it starts, unless superseded meanwhile, so a burst of
keystrokes starts one generation rather than one per key. The first request after a pause
starts at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
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
    coalesced: int = 0  # jobs that waited to settle and were superseded before starting

    def snapshot(self) -> dict[str, int]:
        return {
            "coalesced": self.coalesced,
            "submitted": self.submitted,
            "superseded": self.superseded,
            "dropped": self.dropped,
            "clientCancelled": self.client_cancelled,
        }


class InferenceRunner:
    def __init__(self, max_waiting: int = 8, settle_s: float = 0.03, burst_s: float = 0.4) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tenon-infer")
        self._latest: dict[str, CancelToken] = {}
        self._last_submit: dict[str, float] = {}
        self._settle_s = settle_s
        self._burst_s = burst_s
        self._waiting: OrderedDict[int, CancelToken] = OrderedDict()
        self._lock = threading.Lock()
        self._max_waiting = max_waiting
        self.stats = RunnerStats()

    def _register(self, key: str, token: CancelToken) -> float:
        """Record the job; return the time (monotonic) before which it should not start."""
        now = time.monotonic()
        with self._lock:
            self.stats.submitted += 1
            last = self._last_submit.get(key)
            self._last_submit[key] = now
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
            in_burst = last is not None and now - last < self._burst_s
            return now + self._settle_s if in_burst else 0.0

    def _run(self, job: Callable[[CancelToken], T], token: CancelToken, not_before: float) -> T:
        wait = not_before - time.monotonic()
        if wait > 0 and not token.cancelled:
            token.wait(wait)  # a newer keystroke cancels this one and ends the wait
        with self._lock:
            self._waiting.pop(id(token), None)
        if token.cancelled:
            if not_before:
                self.stats.coalesced += 1
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
        not_before = self._register(key, token)
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, self._run, job, token, not_before)
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
