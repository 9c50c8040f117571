"""Publishing: versioned folders, atomic switch, history, rollback, pruning, crash safety."""

import os
import shutil

import pytest

from tenon.bundle import BundleError
from tenon.paths import TenonHome
from tenon_train import publish


@pytest.fixture
def home(tmp_path):
    return TenonHome(tmp_path / "home")


def candidate(tiny_qwen, tmp_path, name):
    """A copy of the tiny bundle, as a refresh run leaves it (outside models/)."""
    target = tmp_path / "runs" / name / "bundle"
    shutil.copytree(tiny_qwen.path, target)
    return target


def test_publish_rollback_and_keep(home, tiny_qwen, tmp_path):
    names = [f"tiny-v{i}" for i in range(4)]
    for name in names:
        published = publish.publish(home, candidate(tiny_qwen, tmp_path, name), name, keep=3)
        assert publish.current(home) == published.resolve()
        assert not (tmp_path / "runs" / name / "bundle").exists()  # moved, not copied
    assert [p.name for p in publish.versions(home)] == names[1:]  # kept 3
    assert publish.rollback(home).name == "tiny-v2"
    assert publish.current(home).name == "tiny-v2"
    assert publish.rollback(home).name == "tiny-v3"  # rolling back a rollback goes forward
    history = publish.history(home)
    assert [h["reason"] for h in history[-2:]] == ["rollback", "rollback"]


def test_names_are_never_reused(home, tiny_qwen, tmp_path):
    publish.publish(home, candidate(tiny_qwen, tmp_path, "a"), "tiny-a")
    with pytest.raises(publish.PublishError, match="already exists"):
        publish.publish(home, candidate(tiny_qwen, tmp_path, "b"), "tiny-a")


def test_a_broken_bundle_is_refused_and_current_stays(home, tiny_qwen, tmp_path):
    first = publish.publish(home, candidate(tiny_qwen, tmp_path, "ok"), "tiny-ok")
    broken = candidate(tiny_qwen, tmp_path, "broken")
    with (broken / "decoder.int8.onnx").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(BundleError):
        publish.publish(home, broken, "tiny-broken")
    assert publish.current(home) == first.resolve()
    assert not (home.models / "tiny-broken").exists()


def test_a_crash_while_switching_leaves_the_previous_bundle_current(home, tiny_qwen, tmp_path,
                                                                    monkeypatch):
    first = publish.publish(home, candidate(tiny_qwen, tmp_path, "one"), "tiny-one")
    real_replace = os.replace

    def crash(src, dst):
        if str(dst).endswith("current"):
            raise OSError("power cut")
        return real_replace(src, dst)

    monkeypatch.setattr(publish.os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        publish.publish(home, candidate(tiny_qwen, tmp_path, "two"), "tiny-two")
    assert publish.current(home) == first.resolve()
    monkeypatch.setattr(publish.os, "replace", real_replace)
    second = home.models / "tiny-two"  # moved in, complete, but not current
    publish.switch_current(home, second)
    assert publish.rollback(home) == first
