"""Two processes (gloo, CPU) started by torchrun train the same model as one process."""

import json
import os
import subprocess
import sys

import pytest

from tenon_train.train.loop import main
from tests.support.training import max_difference, tiny_train_config, trained_weights


@pytest.mark.parametrize("method", ["lora", "full"])
def test_torchrun_two_processes_match_one(method, tiny_base, tiny_dataset, tmp_path):
    common = {"method": method, "steps": 4, "batch_size": 4, "micro_batch": 1,
              "validation_every": 0, "checkpoint_every": 100, "learning_rate": 1e-3}
    one = tiny_train_config(tiny_base, tiny_dataset, tmp_path / "one", **common)
    main(one)
    two = tiny_train_config(tiny_base, tiny_dataset, tmp_path / "two", **common)
    two.output.mkdir(parents=True)
    config_file = tmp_path / "two.json"
    config_file.write_text(two.to_json())
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         "-m", "tenon_train.cli", "train", "--config", str(config_file)],
        env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    info = json.loads((two.output / "processes.json").read_text())
    assert info["processes"] == 2 and info["backend"] == "gloo"
    base = trained_weights(tiny_base)
    single, double = trained_weights(one.output / "merged"), trained_weights(two.output / "merged")
    moved = max_difference(single, base)
    assert moved > 1e-3  # training changed the weights
    assert max_difference(single, double) < 1e-4 * max(1.0, moved)
