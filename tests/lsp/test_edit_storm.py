"""1,000 rapid didChange events while completions and code actions are in flight, against
the real server and the tiny model (see tests/support/storm.py for how staleness is judged
from outside). bench/reliability_storm.py writes the same figures to bench/results."""

from __future__ import annotations

from tests.support.storm import storm_session


def test_edit_storm_never_returns_stale_answers(tiny_qwen, tmp_path):
    figures = storm_session(tiny_qwen.path, tmp_path / "home", tmp_path / "server.log",
                            changes=1000, seed=3, action_rounds=24)
    completions, actions = figures["completions"], figures["codeActions"]
    assert figures["didChangeSent"] == 1000 and figures["unanswered"] == 0
    assert completions["answered"] == completions["requests"]
    assert completions["staleReturned"] == 0
    assert completions["wrongContent"] == 0
    assert completions["contentChecked"] > 0  # some completions did finish, and were right
    assert actions["staleReturned"] == 0 and actions["editsForNewerVersion"] == 0
    assert actions["editsChecked"] > 0
    rss = figures["rssMiB"]
    assert rss["afterCodeActions"] - rss["beforeStorm"] < 100, rss  # bounded, not growing
    assert figures["exitCode"] == 0
