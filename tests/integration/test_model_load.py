"""Loading a model checks its files' checksums (while the engine starts) and reports them."""

import shutil

import pytest

from tenon.bundle import BundleError
from tenon.model import load_model
from tenon.settings import Settings


@pytest.fixture
def bundle_copy(tiny_qwen, tmp_path):
    target = tmp_path / "bundle"
    shutil.copytree(tiny_qwen.path, target)
    return target


def corrupt(path, at: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))


def test_a_valid_bundle_loads(bundle_copy):
    model = load_model(Settings(bundle_path=str(bundle_copy), device="cpu"))
    assert model.engine.kv_in_place


@pytest.mark.parametrize("name,at", [("decoder.int8.onnx.data", -1), ("decoder.int8.onnx", 0),
                                     ("tokenizer.json", 0)])
def test_a_corrupted_file_fails_the_load_with_its_checksum(bundle_copy, name, at):
    corrupt(bundle_copy / name, at)
    with pytest.raises(BundleError, match=f"`{name}` does not match its sha256"):
        load_model(Settings(bundle_path=str(bundle_copy), device="cpu"))
