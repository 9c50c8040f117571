"""Progress on long work: a bar over the stages, with the elapsed time of the current one."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm


class Stages:
    """``with stages.step("export ONNX"): ...`` advances one bar and ticks while it works."""

    def __init__(self, title: str, total: int, enabled: bool = True) -> None:
        self._bar = tqdm(total=total, desc=title, unit="stage", file=sys.stderr,
                         disable=not enabled, bar_format="{desc}: {n}/{total} |{bar:20}| "
                         "{postfix} [{elapsed}]")
        self.durations: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        done = threading.Event()

        def tick() -> None:
            while not done.wait(1.0):
                self._bar.set_postfix_str(f"{name} ({time.monotonic() - started:.0f} s)")

        self._bar.set_postfix_str(name)
        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            yield
        finally:
            done.set()
            ticker.join()
            self.durations[name] = round(time.monotonic() - started, 1)
            self._bar.update(1)
            self._bar.set_postfix_str(f"{name} done in {self.durations[name]:.0f} s")

    def close(self) -> None:
        self._bar.close()


def byte_bar(total: int, desc: str, enabled: bool = True) -> tqdm:
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
                file=sys.stderr, disable=not enabled)
