"""Time and memory of building the default bundle from scratch, and of one completion.

Builds into a fresh ``$TENON_HOME`` (download, verify, dequantise, export, parity,
quantize), then runs ``tenon complete examples/fibonacci.py`` on the result, each under
``/usr/bin/time -v`` when it is available. Writes ``bench/results/build-default-<date>.json``
and ``.md`` with the command and the machine's load.

    python bench/build_default.py [--home /tmp/fresh-tenon-home] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TIME = Path("/usr/bin/time")


def measured(command: list[str], env: dict[str, str]) -> dict:
    """Run ``command``; wall seconds, peak RSS (MiB) and its output tail."""
    wrapped = [str(TIME), "-v", *command] if TIME.exists() else command
    started = time.perf_counter()
    done = subprocess.run(wrapped, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return {
        "command": " ".join(shlex.quote(c) for c in command),
        "exit_code": done.returncode,
        "seconds": round(seconds, 1),
        "peak_rss_mib": round(int(peak.group(1)) / 1024) if peak else None,
        "stdout_tail": done.stdout[-1500:],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", default="", help="fresh TENON_HOME (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the built home afterwards")
    args = parser.parse_args()
    home = Path(args.home or tempfile.mkdtemp(prefix="tenon-build-"))
    env = {**os.environ, "TENON_HOME": str(home)}
    bin_dir = Path(sys.executable).parent
    load_before = os.getloadavg()
    build = measured([str(bin_dir / "tenon-train"), "build-default"], env)
    complete = measured([str(bin_dir / "tenon"), "complete", str(ROOT / "examples/fibonacci.py")],
                        env)
    sizes = {p.name: p.stat().st_size for p in (home / "models" / "current").iterdir()} if (
        home / "models" / "current").exists() else {}
    report = {
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "build": build,
        "complete": complete,
        "bundle_bytes": sizes,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"build-default-{dt.date.today().isoformat()}"
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown(report))
    print(markdown(report))
    if not args.keep and not args.home:
        shutil.rmtree(home, ignore_errors=True)
    return 0 if build["exit_code"] == 0 and complete["exit_code"] == 0 else 1


def markdown(report: dict) -> str:
    build, complete = report["build"], report["complete"]
    return "\n".join([
        f"# Building the default bundle ({report['date']}, {report['host']}, "
        f"{report['cpus']} CPUs)", "",
        f"Command: `{report['command']}`", "",
        f"Load average before/after: {report['load_average_before']} / "
        f"{report['load_average_after']} (other jobs shared the machine when this is above "
        "the CPU count).", "",
        "| step | wall time | peak RSS |", "|---|---|---|",
        f"| `tenon-train build-default` (download → bundle) | {build['seconds']:.0f} s | "
        f"{build['peak_rss_mib']} MiB |",
        f"| `tenon complete examples/fibonacci.py` (load + one completion) | "
        f"{complete['seconds']:.1f} s | {complete['peak_rss_mib']} MiB |", "",
        "Bundle files: " + ", ".join(f"{k} {v / 2**20:.0f} MiB"
                                     for k, v in sorted(report["bundle_bytes"].items())), "",
    ])


if __name__ == "__main__":
    sys.exit(main())
