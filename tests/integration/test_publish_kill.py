"""Publishing killed at each step leaves the previous bundle intact and served.

``switch_current`` (and ``prune``) run in a child process that SIGKILLs itself just before
its k-th file-system step (an audit hook sees each mkdir, unlink, symlink, rename, rmdir
under ``models/`` before it happens), for every k. After each kill, ``current`` must point
at the old bundle (killed before the rename) or the new one (after it), whole (every
checksum), and a real server watching ``current`` must keep answering with it. Steps after
the rename (the history of what was current) may be lost; ``current`` stays the new one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tenon.bundle import load_bundle
from tenon.paths import TenonHome
from tenon_train.publish import current, remove_stale_links, switch_current
from tests.support.lsp_client import ROOT, server_command, server_env
from tests.support.raw_client import RawServer

STEPS = ("os.mkdir", "os.remove", "os.symlink", "os.rename", "os.rmdir")
CHILD = textwrap.dedent('''
    import json, os, signal, sys
    from pathlib import Path
    home, action, target, kill_at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    models = os.path.realpath(os.path.join(home, "models"))
    steps = []
    def under_models(arg):
        if not isinstance(arg, (str, bytes, os.PathLike)):
            return False
        return os.path.realpath(os.fsdecode(arg)).startswith(models)
    def hook(event, args):
        if event in STEPS and any(under_models(a) for a in args):
            if len(steps) == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            names = [os.path.basename(os.fsdecode(a)) for a in args
                     if isinstance(a, (str, bytes, os.PathLike))]
            steps.append(" ".join([event, *names]))
    sys.addaudithook(hook)
    from tenon.paths import TenonHome
    from tenon_train.publish import prune, switch_current
    if action == "switch":
        switch_current(TenonHome(Path(home)), Path(target))
    else:
        prune(TenonHome(Path(home)), int(target))
    print(json.dumps(steps))
''')


def run_child(home: Path, action: str, target: str, kill_at: int) -> subprocess.CompletedProcess:
    code = f"STEPS = {STEPS!r}\n" + CHILD
    env = server_env(home)
    env["PYTHONPATH"] = ":".join([str(ROOT / "server"), str(ROOT / "training"), str(ROOT)])
    return subprocess.run([sys.executable, "-c", code, str(home), action, target, str(kill_at)],
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def end(text: str) -> dict[str, int]:
    lines = text.split("\n")
    return {"line": len(lines) - 1, "character": len(lines[-1])}


DOC = 'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n    '


def completion(server: RawServer, uri: str) -> str:
    server.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": DOC}})
    items = server.call("textDocument/inlineCompletion", {
        "textDocument": {"uri": uri}, "position": end(DOC),
        "context": {"triggerKind": 1}})["result"]["items"]
    return items[0]["insertText"] if items else ""


@pytest.fixture
def home(tiny_qwen, tmp_path) -> TenonHome:
    home = TenonHome(tmp_path / "home")
    for name in ("old", "new", "older", "oldest"):
        shutil.copytree(tiny_qwen.path, home.models / name)
    switch_current(home, home.models / "old")
    return home


def done_tmp(steps: list[str]) -> str:
    """The temporary link's name, from the step that created it."""
    return next(s.split()[-1] for s in steps if s.startswith("os.symlink"))


def served_path(server: RawServer) -> str:
    return str(Path(server.statuses()[-1]["model"]["path"]).resolve())


def test_switch_killed_at_every_step(home):
    old, new = home.models / "old", home.models / "new"
    server = RawServer(server_command(), server_env(home.root), home.root / "server.log")
    try:
        server.initialize()
        server.wait_for_state({"ready"})
        assert served_path(server) == str(old.resolve())
        reference = completion(server, "file:///p/reference.py")
        assert reference
        done = run_child(home.root, "switch", str(new), -1)
        steps = json.loads(done.stdout)
        switch_at = steps.index("os.rename " + done_tmp(steps) + " current")
        assert switch_at >= 2, steps
        switch_current(home, old)
        after, before = range(switch_at + 1, len(steps)), range(switch_at + 1)
        for kill_at in [*after, *before]:  # the last one leaves a temporary link behind
            remove_stale_links(home)  # what the next publisher does first: same steps each time
            killed = run_child(home.root, "switch", str(new), kill_at)
            assert killed.returncode == -9, (kill_at, killed.stderr)
            expected = old if kill_at <= switch_at else new
            assert current(home) == expected.resolve(), (kill_at, steps[kill_at])
            load_bundle(current(home), check_hashes=True)  # whole, every checksum
            if expected is new:
                switch_current(home, old)
                assert server.wait_until(lambda: served_path(server) == str(old.resolve()), 60)
            assert completion(server, f"file:///p/killed{kill_at}.py") == reference
            assert served_path(server) == str(old.resolve())
        assert list(home.models.glob(".current.*"))  # killed before its rename: a leftover
        finished = run_child(home.root, "switch", str(new), -1)
        assert finished.returncode == 0, finished.stderr
        assert current(home) == new.resolve()
        assert not list(home.models.glob(".current.*"))  # the leftover was cleaned up
        assert server.wait_until(lambda: served_path(server) == str(new.resolve()), 60)
        assert completion(server, "file:///p/after.py") == reference
        assert server.shutdown() == 0
    finally:
        server.kill()


def test_prune_killed_at_every_step_never_touches_current(home):
    steps = None
    kill_at = 0
    while steps is None or kill_at <= len(steps):
        for name in ("new", "older", "oldest"):  # restore what the last run removed
            shutil.rmtree(home.models / name, ignore_errors=True)
            shutil.copytree(home.models / "old", home.models / name)
        done = run_child(home.root, "prune", "1", kill_at if steps is not None else -1)
        if steps is None:
            steps = json.loads(done.stdout)
            rmdirs = [s for s in steps if s.startswith("os.rmdir ")]
            assert len(rmdirs) == 3, steps  # three old versions removed
            continue
        assert current(home) == (home.models / "old").resolve(), kill_at
        load_bundle(current(home), check_hashes=True)
        kill_at += 1
