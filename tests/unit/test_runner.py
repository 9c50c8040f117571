"""The inference runner: a burst of requests for one document starts few jobs."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tenon.inference.runner import InferenceRunner, JobCancelled


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
