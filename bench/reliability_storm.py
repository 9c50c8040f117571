"""Edit storm: rapid didChange events while completions and code actions are in flight.

Figures: completions returned for an older version (must be 0), code-action edits for a
newer version (must be 0), completions checked against the version they were asked for,
answers caught stale when written, and the server's RSS before and after. Uses the tiny
trained test model.

    python bench/reliability_storm.py [--changes 1000] [--rounds 60] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reliability_common import tiny_bundle, write_result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=60, help="code-action races")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bundle", default="", help="bundle (default: the tiny test model)")
    args = parser.parse_args()
    from tests.support.storm import storm_session

    load = [round(x, 2) for x in os.getloadavg()]
    bundle = Path(args.bundle) if args.bundle else tiny_bundle()
    work = Path(tempfile.mkdtemp(prefix="tenon-storm-"))
    figures = storm_session(bundle, work / "home", work / "server.log", args.changes,
                            args.seed, args.rounds)
    path = write_result("storm", {"model": f"tiny test model ({bundle})", **figures}, load)
    print(json.dumps(figures, indent=1), "->", path)
    ok = (figures["completions"]["staleReturned"] == 0
          and figures["codeActions"]["editsForNewerVersion"] == 0
          and figures["completions"]["wrongContent"] == 0 and figures["unanswered"] == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
