"""The ONNX engine on a tiny real bundle: cancellation and latest-wins by its counters."""

import asyncio
import threading

import pytest

from tenon.bundle import load_bundle
from tenon.inference.engine import CancelToken, SamplingParams
from tenon.inference.onnx_engine import EngineError, EngineOptions, OnnxEngine, choose_providers
from tenon.inference.runner import InferenceRunner

NEVER = lambda _ids: False  # noqa: E731


@pytest.fixture(scope="module")
def engine(tiny_qwen):
    return OnnxEngine(load_bundle(tiny_qwen.path), EngineOptions(device="cpu", reuse_prefix=False))


def test_provider_is_reported(engine):
    assert engine.provider == "CPUExecutionProvider"
    assert engine.variant.quantization == "int8"


def test_cuda_requested_without_cuda_is_a_clear_error():
    with pytest.raises(EngineError, match="CUDA was requested.*tenon\\[gpu\\]"):
        choose_providers("cuda", ["CPUExecutionProvider"])
    assert choose_providers("auto", ["CPUExecutionProvider"]).note.startswith("CPU (no CUDA")


def test_cancel_from_the_stop_callback_stops_before_the_next_step(engine):
    token = CancelToken()

    def stop_after_five(ids):
        if len(ids) == 5:
            token.cancel("test")
        return False

    before = engine.stats.snapshot()
    result = engine.generate([5, 6, 7], SamplingParams(400), stop_after_five, token)
    after = engine.stats.snapshot()
    assert result.finish_reason == "cancelled"
    assert len(result.token_ids) == 5
    # the prefill, then a forward for tokens 2..5, and none after the cancel
    assert after["forwardCalls"] == token.step_at_cancel
    assert after["forwardCalls"] - before["forwardCalls"] >= 5
    assert after["maxStepsAfterCancel"] <= 1


def test_cancel_from_another_thread_stops_within_one_step(engine):
    token = CancelToken()
    running = threading.Event()

    def signal(ids):
        running.set()
        return False

    thread = threading.Thread(target=lambda: engine.generate(
        [5, 6, 7], SamplingParams(100_000), signal, token))
    thread.start()
    assert running.wait(30)
    token.cancel("from the test")
    thread.join(30)
    assert not thread.is_alive()
    assert token.step_at_cancel is not None
    assert engine.stats.snapshot()["maxStepsAfterCancel"] <= 1


async def test_latest_request_for_a_document_wins(tiny_qwen):
    engine = OnnxEngine(load_bundle(tiny_qwen.path), EngineOptions(device="cpu"))
    runner = InferenceRunner()
    started = threading.Event()

    def long_job(token):
        def mark(ids):
            started.set()
            return False
        return engine.generate([5, 6, 7], SamplingParams(100_000), mark, token)

    def short_job(token):
        return engine.generate([5, 6, 8], SamplingParams(3), NEVER, token)

    first = asyncio.ensure_future(runner.run("doc", long_job))
    await asyncio.get_running_loop().run_in_executor(None, started.wait, 30)
    second = await runner.run("doc", short_job)
    first_result = await first
    assert first_result.finish_reason == "cancelled"
    assert second.finish_reason == "length" and len(second.token_ids) == 3
    assert runner.stats.superseded == 1
    assert engine.stats.snapshot()["cancelled"] == 1
    assert engine.stats.snapshot()["maxStepsAfterCancel"] <= 1
    runner.shutdown()


async def test_cancelling_the_awaiting_task_cancels_the_generation(tiny_qwen):
    engine = OnnxEngine(load_bundle(tiny_qwen.path), EngineOptions(device="cpu"))
    runner = InferenceRunner()
    started = threading.Event()
    done = threading.Event()
    results = []

    def long_job(token):
        def mark(ids):
            started.set()
            token.wait(30)  # the model would reach its end of text in 54 tokens otherwise
            return False
        result = engine.generate([5, 6, 7], SamplingParams(100_000), mark, token)
        results.append(result)
        done.set()
        return result

    task = asyncio.ensure_future(runner.run("doc", long_job))
    await asyncio.get_running_loop().run_in_executor(None, started.wait, 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.get_running_loop().run_in_executor(None, done.wait, 30)
    assert results[0].finish_reason == "cancelled"
    assert runner.stats.client_cancelled == 1
    runner.shutdown()


def test_prefix_cache_is_reused(tiny_qwen):
    engine = OnnxEngine(load_bundle(tiny_qwen.path), EngineOptions(device="cpu"))
    first = engine.generate([5, 6, 7, 8, 9], SamplingParams(4), NEVER, CancelToken())
    second = engine.generate([5, 6, 7, 8, 9, 10], SamplingParams(4), NEVER, CancelToken())
    assert first.reused_tokens == 0
    assert second.reused_tokens == 5
    fresh = OnnxEngine(load_bundle(tiny_qwen.path), EngineOptions(device="cpu",
                                                                  reuse_prefix=False))
    again = fresh.generate([5, 6, 7, 8, 9, 10], SamplingParams(4), NEVER, CancelToken())
    assert again.token_ids == second.token_ids
