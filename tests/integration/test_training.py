"""Fine-tuning a tiny model: loss goes down, config travels with checkpoints, LoRA is merged,
a killed run resumes to exactly the weights of an uninterrupted one."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tenon_train.train.config import load
from tenon_train.train.loop import main
from tenon_train.train.model import COMPLETE
from tests.support.training import max_difference, tiny_train_config, trained_weights


@pytest.mark.parametrize("method", ["lora", "full"])
def test_training_lowers_the_loss_and_writes_a_merged_checkpoint(method, tiny_base, tiny_dataset,
                                                                 tmp_path):
    cfg = tiny_train_config(tiny_base, tiny_dataset, tmp_path / "run", method=method,
                            learning_rate=3e-3 if method == "lora" else 1e-3)
    result = main(cfg)
    losses = [h["validation_loss"] for h in result.history if "validation_loss" in h]
    assert len(losses) == 3 and losses[-1] < losses[0]
    merged = result.merged
    assert (merged / COMPLETE).is_file() and (merged / "tokenizer.json").is_file()
    assert load(merged / "tenon_training.json") == cfg
    assert not any("lora" in k for k in trained_weights(merged))  # merged into the weights
    assert max_difference(trained_weights(merged), trained_weights(tiny_base)) > 1e-4
    checkpoint = sorted((cfg.output / "checkpoints").iterdir())[-1]
    assert load(checkpoint / "config.json") == cfg
    assert json.loads((checkpoint / "state.json").read_text())["step"] == cfg.steps
    assert result.tokens_per_second > 0


def test_a_different_config_does_not_resume_anothers_checkpoints(tiny_base, tiny_dataset, tmp_path):
    main(tiny_train_config(tiny_base, tiny_dataset, tmp_path / "run", steps=2))
    with pytest.raises(ValueError, match="another configuration"):
        main(tiny_train_config(tiny_base, tiny_dataset, tmp_path / "run", steps=2, seed=5))


def _train_command(config_file):
    return [sys.executable, "-m", "tenon_train.cli", "train", "--config", str(config_file)]


def test_a_killed_run_resumes_to_the_same_weights(tiny_base, tiny_dataset, tmp_path):
    steps = 60
    straight = tiny_train_config(tiny_base, tiny_dataset, tmp_path / "straight", steps=steps,
                                 checkpoint_every=4, validation_every=0, learning_rate=1e-3)
    main(straight)
    killed = tiny_train_config(tiny_base, tiny_dataset, tmp_path / "killed", steps=steps,
                               checkpoint_every=4, validation_every=0, learning_rate=1e-3)
    killed.output.mkdir(parents=True)
    config_file = tmp_path / "killed.json"
    config_file.write_text(killed.to_json())
    process = subprocess.Popen(_train_command(config_file), env=os.environ.copy(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = killed.output / "checkpoints" / "step-000004"
    deadline = time.monotonic() + 300
    while not first.is_dir() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    assert not (killed.output / "merged").exists()
    done = subprocess.run(_train_command(config_file), env=os.environ.copy(),
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    history = json.loads((killed.output / "history.json").read_text())
    assert [h["step"] for h in history] == list(range(1, steps + 1))
    difference = max_difference(trained_weights(straight.output / "merged"),
                                trained_weights(killed.output / "merged"))
    assert difference < 1e-6
