"""Load: 8 documents typed into at once, each keystroke asking for a completion, for 2 minutes.

Eight simulated users type code into eight documents, one character every 80-400 ms, and
ask for an inline completion after each keystroke, cancelling the one before as VS Code
does. Every 15-30 characters a user stops and waits for the ghost text (up to a minute).
Figures: requests by outcome (completion, empty, cancelled, error, never answered),
latency percentiles (all answers; answers with a completion; answers a pausing user waited
for), the runner's peak waiting line (bounded by design: latest request per document wins,
8 waiting at most), and the server's RSS. The default model is the real default bundle;
``--bundle tiny`` uses the tiny test model instead.

    python bench/reliability_load.py [--seconds 120] [--bundle PATH|tiny] [--name NAME]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reliability_common import tiny_bundle, write_result

SEEDS = [
    ('def fibonacci(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n    ',
     "if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n"),
    ("import json\n\n\ndef load_settings(path):\n    # read the config file and return the "
     "port as an int\n    ", "with open(path) as handle:\n        data = json.load(handle)\n"),
    ("class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):"
     "\n        ", "self.items.append(item)\n\n    def pop(self):\n        return "),
    ("from dataclasses import dataclass\n\n\n@dataclass\nclass Point:\n    x: float\n    "
     "y: float\n\n    def distance(self, other):\n        ",
     "return ((self.x - other.x) ** 2 + (self.y - other.y) ** 2) ** 0.5\n"),
    ("import argparse\n\n\ndef parse_args(argv=None):\n    parser = argparse.ArgumentParser()\n"
     "    ", 'parser.add_argument("--port", type=int, default=8080)\n    return parser.'),
    ('def count_vowels(text: str) -> int:\n    """Return how many vowels are in text."""\n    ',
     'return sum(1 for ch in text.lower() if ch in "aeiou")\n'),
    ("# 计算斐波那契数列的第n项\ndef fib(n):\n    ", "a, b = 0, 1\n    for _ in range(n):\n"),
    ("import os\n\n\ndef list_python_files(folder):\n    ",
     "names = os.listdir(folder)\n    return [n for n in names if n.endswith('.py')]\n"),
]


def utf16_end(text: str) -> dict[str, int]:
    lines = text.split("\n")
    return {"line": len(lines) - 1, "character": len(lines[-1].encode("utf-16-le")) // 2}


@dataclass
class Typist:
    uri: str
    text: str
    script: str
    rng: random.Random
    version: int = 1
    typed: int = 0
    pending: Any = None
    next_at: float = 0.0
    waiting: bool = False  # the user stopped and waits for the answer
    pause_in: int = 20
    sent: dict[Any, tuple[float, bool]] = field(default_factory=dict)  # id → (time, paused)

    def keystroke(self, server: Any) -> None:
        if self.typed >= len(self.script):  # start the line over: delete what was typed
            start = utf16_end(self.text[: len(self.text) - self.typed])
            change = {"range": {"start": start, "end": utf16_end(self.text)}, "text": ""}
            self.text, self.typed = self.text[: len(self.text) - self.typed], 0
        else:
            char = self.script[self.typed]
            end = utf16_end(self.text)
            change = {"range": {"start": end, "end": end}, "text": char}
            self.text, self.typed = self.text + char, self.typed + 1
        self.version += 1
        server.notify("textDocument/didChange", {
            "textDocument": {"uri": self.uri, "version": self.version}, "contentChanges": [change]})

    def act(self, server: Any, now: float) -> None:
        if self.pending is not None and self.pending not in server.responses:
            server.notify("$/cancelRequest", {"id": self.pending})  # as VS Code does
        self.keystroke(server)
        self.pause_in -= 1
        paused = self.pause_in <= 0
        self.pending = server.request("textDocument/inlineCompletion", {
            "textDocument": {"uri": self.uri}, "position": utf16_end(self.text),
            "context": {"triggerKind": 2}})
        self.sent[self.pending] = (now, paused)
        if paused:
            self.waiting, self.pause_in = True, self.rng.randint(15, 30)
        else:
            self.next_at = now + self.rng.uniform(0.08, 0.4)

    def tick(self, server: Any, now: float) -> None:
        if self.waiting:
            answered = self.pending in server.responses
            if answered or now - self.sent[self.pending][0] > 60:
                self.waiting, self.next_at = False, now + self.rng.uniform(0.3, 1.0)
            return
        if now >= self.next_at:
            self.act(server, now)


def percentiles(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000)

    return {"count": len(ordered), "p50Ms": at(0.50), "p95Ms": at(0.95), "p99Ms": at(0.99),
            "maxMs": round(ordered[-1] * 1000)}


def outcomes(server: Any, typists: list[Typist]) -> dict[str, Any]:
    counts = {"requests": 0, "completion": 0, "empty": 0, "cancelled": 0, "errors": 0,
              "unanswered": 0}
    every, completed, waited = [], [], []
    for typist in typists:
        for msg_id, (sent, paused) in typist.sent.items():
            counts["requests"] += 1
            response = server.responses.get(msg_id)
            if response is None:
                counts["unanswered"] += 1
                continue
            latency = server.arrival_time[msg_id] - sent
            every.append(latency)
            if "error" in response:
                cancelled = response["error"].get("code") == -32800
                counts["cancelled" if cancelled else "errors"] += 1
                continue
            items = (response.get("result") or {}).get("items", [])
            counts["completion" if items else "empty"] += 1
            if items:
                completed.append(latency)
            if paused:
                waited.append(latency)
    return {"counts": counts, "latency": {"allAnswers": percentiles(every),
                                          "withACompletion": percentiles(completed),
                                          "userWaited": percentiles(waited)}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--bundle", default="", help="bundle path, or 'tiny' (default: real)")
    parser.add_argument("--name", default="", help="results name (default: load-<model>)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    import psutil

    from tenon.paths import default_bundle_path
    from tests.support.lsp_client import server_command, server_env
    from tests.support.raw_client import RawServer

    load = [round(x, 2) for x in os.getloadavg()]
    bundle = tiny_bundle() if args.bundle == "tiny" else Path(
        args.bundle or default_bundle_path()).resolve()
    work = Path(tempfile.mkdtemp(prefix="tenon-load-"))
    server = RawServer(server_command("--bundle", str(bundle), "--device", "cpu"),
                       server_env(work / "home"), work / "server.log")
    rng = random.Random(args.seed)
    try:
        server.initialize()
        ready = server.wait_for_state({"ready", "error"}, timeout=600)
        assert ready["state"] == "ready", ready
        process = psutil.Process(server.proc.pid)
        typists = []
        for n, (text, script) in enumerate(SEEDS):
            uri = f"file:///load/doc{n}.py"
            server.notify("textDocument/didOpen", {"textDocument": {
                "uri": uri, "languageId": "python", "version": 1, "text": text}})
            typists.append(Typist(uri, text, script, random.Random(rng.random())))
        rss = [process.memory_info().rss]
        peak_waiting, stats_ids = 0, []
        started = time.monotonic()
        next_poll = started
        while (now := time.monotonic()) - started < args.seconds:
            for typist in typists:
                typist.tick(server, now)
            if now >= next_poll:
                stats_ids.append(server.request("tenon/stats", {}))
                rss.append(process.memory_info().rss)
                next_poll = now + 1.0
            if server.proc.poll() is not None:
                break
            time.sleep(0.005)
        for typist in typists:  # the last requests: answered before we count
            if typist.pending is not None:
                server.wait_for([typist.pending], 120)
        server.wait_for(stats_ids, 120)
        for msg_id in stats_ids:
            runner = (server.responses.get(msg_id) or {}).get("result", {}).get("runner", {})
            peak_waiting = max(peak_waiting, runner.get("peakWaiting", 0))
        final = server.call("tenon/stats", {})["result"]
        figures = outcomes(server, typists)
        exit_code = server.shutdown()
    finally:
        server.kill()
    mib = [round(r / 2**20) for r in rss]
    model = ready["model"]
    figures.update(
        model={"name": model["name"], "path": str(bundle), "graph": model["graph"],
               "provider": model["provider"], "loadMs": model["loadMs"]},
        documents=len(SEEDS), seconds=args.seconds,
        boundedQueue={"peakWaiting": peak_waiting, "limit": 8,
                      "runner": final["runner"]},
        engine=final["engine"], rssMiB={"start": mib[0], "max": max(mib), "end": mib[-1],
                                        "every10s": mib[::10]},
        loadavgAtEnd=[round(x, 2) for x in os.getloadavg()], exitCode=exit_code,
    )
    name = args.name or ("load-tiny" if args.bundle == "tiny" else "load-default")
    path = write_result(name, figures, load)
    print(figures["counts"])
    print(figures["latency"], figures["boundedQueue"], figures["rssMiB"], "->", path)
    counts = figures["counts"]
    ok = counts["errors"] == 0 and counts["unanswered"] == 0 and peak_waiting <= 8
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
