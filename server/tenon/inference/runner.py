"""Runs inference jobs on a dedicated thread, latest request per document wins.

pygls handles requests on its event loop; generation must not block it. Each job runs on
the runner's own single-thread executor (ONNX Runtime uses its own threads inside). A new
job for the same key (document) cancels the one before it, queued or running, and the
queue is bounded: when too many jobs wait, the oldest waiting one is cancelled. A job
cancelled before it starts is answered at once and holds no memory while it waits.

Coalescing: a job that arrives within ``burst_s`` of the previous one for its key (the user
is typing) waits ``settle_s`` before it starts, unless superseded meanwhile, so a burst of
keystrokes starts one generation rather than one per key. The first request after a pause
starts at once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

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
    peak_waiting: int = 0
    coalesced: int = 0  # jobs that waited to settle and were superseded before starting

    def snapshot(self) -> dict[str, int]:
        return {
            "submitted": self.submitted,
            "superseded": self.superseded,
            "dropped": self.dropped,
            "clientCancelled": self.client_cancelled,
            "peakWaiting": self.peak_waiting,
            "coalesced": self.coalesced,
        }


@dataclass(eq=False)
class _Slot:
    """What the inference thread is handed: the job, never the request's future (whose
    exception, once raised, holds the request's frames and so its document snapshot)."""

    job: Callable[[CancelToken], Any] | None
    token: CancelToken
    started: bool = False
    not_before: float = 0.0  # monotonic time before which it does not start (a burst)


@dataclass(eq=False)
class _Pending:
    """A job and the request waiting for it. A job cancelled before it starts is let go at
    once (with the document snapshot it holds), and its request answered at once, instead
    of when the inference thread gets to it behind a long generation."""

    slot: _Slot
    answer: asyncio.Future
    loop: asyncio.AbstractEventLoop

    @property
    def token(self) -> CancelToken:
        return self.slot.token


class InferenceRunner:
    def __init__(self, max_waiting: int = 8, settle_s: float = 0.03, burst_s: float = 0.4) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tenon-infer")
        self._latest: dict[str, _Pending] = {}
        self._last_submit: dict[str, float] = {}
        self._settle_s = settle_s
        self._burst_s = burst_s
        self._waiting: OrderedDict[int, _Pending] = OrderedDict()
        self._lock = threading.Lock()
        self._max_waiting = max_waiting
        self.stats = RunnerStats()

    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)

    def _register(self, key: str, pending: _Pending) -> None:
        now = time.monotonic()
        with self._lock:
            self.stats.submitted += 1
            last = self._last_submit.pop(key, None)
            self._last_submit[key] = now  # newest last: the oldest keys go first
            while len(self._last_submit) > 4096:
                del self._last_submit[next(iter(self._last_submit))]
            if last is not None and now - last < self._burst_s:
                pending.slot.not_before = now + self._settle_s
            previous = self._latest.get(key)
            if previous is not None and not previous.token.cancelled:
                self._cancel(previous, "superseded")
                self.stats.superseded += 1
            self._latest[key] = pending
            self._waiting[id(pending.slot)] = pending
            while len(self._waiting) > self._max_waiting:
                _, oldest = self._waiting.popitem(last=False)
                self._cancel(oldest, "dropped: too many waiting requests")
                self.stats.dropped += 1
            self.stats.peak_waiting = max(self.stats.peak_waiting, len(self._waiting))

    def _cancel(self, pending: _Pending, reason: str) -> None:
        """Under the lock, from any thread."""
        pending.token.cancel(reason)
        if not pending.slot.started:
            pending.slot.job = None
            self._waiting.pop(id(pending.slot), None)
            pending.loop.call_soon_threadsafe(_settle, pending.answer, JobCancelled(reason))

    def _run(self, slot: _Slot) -> Any:
        wait = slot.not_before - time.monotonic()
        if wait > 0 and not slot.token.cancelled:
            slot.token.wait(wait)  # a newer keystroke cancels this one and ends the wait
        with self._lock:
            self._waiting.pop(id(slot), None)
            job = slot.job
            if job is None or slot.token.cancelled:
                if slot.not_before:
                    self.stats.coalesced += 1
                raise JobCancelled(slot.token.reason)
            slot.started, slot.job = True, None
        return job(slot.token)

    def _forget(self, key: str, pending: _Pending) -> None:
        with self._lock:
            self._waiting.pop(id(pending.slot), None)
            if self._latest.get(key) is pending:
                del self._latest[key]

    async def run(self, key: str, job: Callable[[CancelToken], T]) -> T:
        """Run ``job(token)`` on the inference thread; cancelling the awaiting task cancels it."""
        loop = asyncio.get_running_loop()
        pending = _Pending(_Slot(job, CancelToken()), loop.create_future(), loop)
        del job  # held by the slot only, which lets go of it when cancelled
        pending.answer.add_done_callback(_retrieved)  # nobody awaits a client-cancelled one
        self._register(key, pending)
        work = loop.run_in_executor(self._executor, self._run, pending.slot)
        work.add_done_callback(functools.partial(_settle_from, weakref.ref(pending.answer)))
        try:
            return await asyncio.shield(pending.answer)
        except JobCancelled as exc:  # a fresh one: the stored one would keep these frames
            raise JobCancelled(str(exc)) from None
        except asyncio.CancelledError:
            with self._lock:
                self._cancel(pending, "cancelled by the client")
                self.stats.client_cancelled += 1
            raise
        finally:
            self._forget(key, pending)

    def cancel(self, key: str, reason: str) -> None:
        """Cancel the job of ``key`` (waiting or running), if any."""
        with self._lock:
            pending = self._latest.get(key)
            if pending is not None and not pending.token.cancelled:
                self._cancel(pending, reason)
                self.stats.superseded += 1

    def cancel_all(self, reason: str = "shutting down") -> None:
        with self._lock:
            for pending in list(self._latest.values()):
                self._cancel(pending, reason)

    def shutdown(self) -> None:
        self.cancel_all()
        self._executor.shutdown(wait=False, cancel_futures=True)


def _retrieved(answer: asyncio.Future) -> None:
    if not answer.cancelled():
        answer.exception()


def _settle(answer: asyncio.Future, error: BaseException) -> None:
    if not answer.done():
        answer.set_exception(error)


def _settle_from(answer_ref: weakref.ref, done: asyncio.Future) -> None:
    error = None if done.cancelled() else done.exception()  # always retrieved
    answer = answer_ref()
    if answer is None or answer.done():
        return
    if done.cancelled():
        answer.set_exception(JobCancelled("shut down"))
    elif error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(done.result())
