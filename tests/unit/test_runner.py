"""The inference runner: latest request per document wins, the waiting line is bounded, a
job cancelled before it starts is answered at once and keeps nothing alive, and a burst of
requests for one document starts few jobs."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref

import pytest

from tenon.inference.runner import InferenceRunner, JobCancelled


class Payload:
    """Stands for a document snapshot a waiting job holds."""


async def wait_started(started: threading.Event) -> None:
    assert await asyncio.get_running_loop().run_in_executor(None, started.wait, 30)


async def test_superseded_job_is_answered_before_the_running_one_ends():
    runner = InferenceRunner()
    started, release = threading.Event(), threading.Event()

    def blocking(_token):
        started.set()
        release.wait(30)
        return "first"

    first = asyncio.ensure_future(runner.run("doc-a", blocking))
    await wait_started(started)
    payload = Payload()
    held = weakref.ref(payload)
    second = asyncio.ensure_future(runner.run("doc-b", lambda _t, p=payload: p))
    del payload
    third = asyncio.ensure_future(runner.run("doc-b", lambda _t: "third"))
    with pytest.raises(JobCancelled, match="superseded"):
        await second  # answered while the first job still runs
    assert not first.done()
    second = None
    gc.collect()
    assert held() is None  # the superseded job let go of what it held
    release.set()
    assert await first == "first" and await third == "third"
    runner.shutdown()


async def test_waiting_line_is_bounded_oldest_dropped():
    runner = InferenceRunner(max_waiting=3)
    started, release = threading.Event(), threading.Event()

    def blocking(_token):
        started.set()
        release.wait(30)
        return "running"

    running = asyncio.ensure_future(runner.run("busy", blocking))
    await wait_started(started)
    waiting = [asyncio.ensure_future(runner.run(f"doc-{i}", lambda _t, i=i: i))
               for i in range(10)]
    await asyncio.sleep(0)
    for task in waiting[:7]:
        with pytest.raises(JobCancelled, match="too many waiting"):
            await task
    assert runner.waiting() == 3 and runner.stats.peak_waiting == 3
    release.set()
    assert [await t for t in waiting[7:]] == [7, 8, 9]
    assert await running == "running"
    assert runner.stats.dropped == 7 and runner.waiting() == 0
    runner.shutdown()


async def test_cancel_all_answers_every_waiting_request():
    runner = InferenceRunner()
    started, release = threading.Event(), threading.Event()

    def blocking(token):
        started.set()
        release.wait(30)
        return token.cancelled

    running = asyncio.ensure_future(runner.run("busy", blocking))
    await wait_started(started)
    queued = asyncio.ensure_future(runner.run("other", lambda _t: "never"))
    await asyncio.sleep(0)
    threading.Thread(target=runner.cancel_all, args=("the client is gone",)).start()
    with pytest.raises(JobCancelled, match="the client is gone"):
        await queued
    release.set()
    assert await running is True  # the running job saw its token cancelled
    runner.shutdown()


async def test_a_burst_of_requests_starts_the_first_and_the_last_only():
    runner = InferenceRunner(settle_s=0.3, burst_s=5.0)
    started: list[int] = []
    first_running = threading.Event()

    def job(n):
        def run(token):
            started.append(n)
            first_running.set()
            token.wait(5 if n == 0 else 0)  # the first runs until cancelled
            return n
        return run

    tasks = [asyncio.ensure_future(runner.run("doc", job(0)))]
    await asyncio.get_running_loop().run_in_executor(None, first_running.wait, 5)
    for n in (1, 2, 3):
        tasks.append(asyncio.ensure_future(runner.run("doc", job(n))))
        await asyncio.sleep(0.01)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert started == [0, 3]
    assert results[0] == 0 and results[3] == 3
    assert all(isinstance(r, JobCancelled) for r in results[1:3])
    assert runner.stats.coalesced + runner.stats.superseded >= 2
    runner.shutdown()


async def test_a_request_after_a_pause_starts_at_once():
    runner = InferenceRunner(settle_s=5.0, burst_s=0.05)
    assert await runner.run("doc", lambda token: 1) == 1
    await asyncio.sleep(0.1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await runner.run("doc", lambda token: 2) == 2
    assert loop.time() - started < 2.0  # not the 5 s settle of a burst
    runner.shutdown()


@pytest.mark.parametrize("other", ["doc2"])
async def test_requests_for_other_documents_do_not_settle(other):
    runner = InferenceRunner(settle_s=5.0, burst_s=10.0)
    assert await runner.run("doc", lambda token: 1) == 1
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await runner.run(other, lambda token: 2) == 2
    assert loop.time() - started < 2.0
    runner.shutdown()
