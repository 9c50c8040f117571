"""Protocol fuzz: at least 10,000 hostile messages against the real server over stdio.

A seeded generator (tests/support/fuzz.py, driven by fuzz_session.py) mixes malformed
framing (lengths that lie both ways, garbage headers, truncated bodies, invalid JSON), wrong
types, unknown methods, positions outside the document or inside surrogate pairs, combining
characters, CRLF/CR and other line breaks, and 10 MB documents. Figures: messages tried,
crashes, requests without an answer, error responses by code, and whether the server still
completes the reference document exactly as before. The main run is a UTF-16 client (VS
Code); shorter runs negotiate UTF-8 and UTF-32. Uses the tiny trained test model (fast
completions).

    python bench/reliability_fuzz.py [--messages 10000] [--seed 7] [--bundle PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reliability_common import tiny_bundle, write_result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--other-encodings", type=int, default=1_000,
                        help="messages for each of the UTF-8 and UTF-32 runs")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--bundle", default="", help="bundle (default: the tiny test model)")
    args = parser.parse_args()
    from tests.support.fuzz_session import fuzz_session

    load = [round(x, 2) for x in os.getloadavg()]
    bundle = Path(args.bundle) if args.bundle else tiny_bundle()
    work = Path(tempfile.mkdtemp(prefix="tenon-fuzz-"))
    runs = {}
    plan = [("utf-16", None, args.messages), ("utf-8", ["utf-8"], args.other_encodings),
            ("utf-32", ["utf-32", "utf-16"], args.other_encodings)]
    for offset, (name, encodings, count) in enumerate(plan):
        if count <= 0:
            continue
        figures = fuzz_session(bundle, work / "home", work / f"server-{name}.log",
                               args.seed + offset, count, encodings)
        runs[name] = figures
        print(name, {k: figures[k] for k in ("messagesTried", "crashes",
                                             "requestsWithoutAnswer", "internalErrors",
                                             "stillCompletesCorrectly", "seconds")},
              flush=True)
    total = {
        "messagesTried": sum(r["messagesTried"] for r in runs.values()),
        "crashes": sum(r["crashes"] for r in runs.values()),
        "requestsWithoutAnswer": sum(r["requestsWithoutAnswer"] for r in runs.values()),
        "internalErrors": sum(r["internalErrors"] for r in runs.values()),
        "documentTextInLog": sum(r["documentTextInLog"] for r in runs.values()),
        "stillCompletesCorrectly": all(r["stillCompletesCorrectly"] for r in runs.values()),
    }
    path = write_result("fuzz", {"model": f"tiny test model ({bundle})", "total": total,
                                 "runs": runs}, load)
    print("total", total, "->", path)
    ok = (total["crashes"] == 0 and total["requestsWithoutAnswer"] == 0
          and total["internalErrors"] == 0 and total["stillCompletesCorrectly"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
