"""A bundle that cannot be served fails to load with a message naming the problem."""

import json
import shutil

import pytest

from tenon.bundle import BundleError, load_bundle


@pytest.fixture
def bundle_copy(tiny_qwen, tmp_path):
    target = tmp_path / "bundle"
    shutil.copytree(tiny_qwen.path, target)
    return target


def edit_manifest(folder, change):
    path = folder / "manifest.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_valid_bundle_loads(bundle_copy):
    bundle = load_bundle(bundle_copy)
    assert bundle.manifest.vocabulary.fim is not None
    assert set(bundle.manifest.graphs) == {"int8", "fp32"}
    assert bundle.manifest.parity["fp32"]["greedy_equal"] == bundle.manifest.parity["fp32"][
        "prompts"]


def test_missing_folder(tmp_path):
    with pytest.raises(BundleError, match="no model bundle at .*make bundle"):
        load_bundle(tmp_path / "nowhere")


def test_missing_manifest_means_unfinished_export(bundle_copy):
    (bundle_copy / "manifest.json").unlink()
    with pytest.raises(BundleError, match="no manifest.json: the export did not finish"):
        load_bundle(bundle_copy)


def test_missing_file(bundle_copy):
    (bundle_copy / "decoder.int8.onnx").unlink()
    with pytest.raises(BundleError, match="`decoder.int8.onnx` is missing"):
        load_bundle(bundle_copy)


def test_truncated_graph(bundle_copy):
    data = bundle_copy / "decoder.fp32.onnx.data"
    data.write_bytes(data.read_bytes()[:1000])
    with pytest.raises(BundleError, match="decoder.fp32.onnx.data` has 1000 bytes.*truncated"):
        load_bundle(bundle_copy)


def test_wrong_checksum(bundle_copy):
    graph = bundle_copy / "decoder.int8.onnx"
    raw = bytearray(graph.read_bytes())
    raw[-1] ^= 0xFF
    graph.write_bytes(bytes(raw))
    with pytest.raises(BundleError, match="does not match its sha256"):
        load_bundle(bundle_copy)


def test_manifest_from_the_future(bundle_copy):
    edit_manifest(bundle_copy, lambda d: d.update(schema_version=99))
    with pytest.raises(BundleError, match="schema version 99.*Upgrade Tenon"):
        load_bundle(bundle_copy)


def test_unknown_prompt_format_version(bundle_copy):
    edit_manifest(bundle_copy, lambda d: d["prompt_format"].update(version=7))
    with pytest.raises(BundleError, match="prompt format 'tenon-psm' version 7"):
        load_bundle(bundle_copy)


def test_manifest_not_json(bundle_copy):
    (bundle_copy / "manifest.json").write_text("{nope")
    with pytest.raises(BundleError, match="not valid JSON"):
        load_bundle(bundle_copy)


def test_manifest_missing_key(bundle_copy):
    edit_manifest(bundle_copy, lambda d: d.pop("io"))
    with pytest.raises(BundleError, match="lacks `io`"):
        load_bundle(bundle_copy)


def test_tokenizer_mismatch(bundle_copy):
    from tenon.model import load_model
    from tenon.settings import Settings

    edit_manifest(bundle_copy, lambda d: d["vocabulary"]["fim"].update(ids=[1, 2, 3]))
    with pytest.raises(BundleError, match="tokenizer mismatch"):
        load_model(Settings(bundle_path=str(bundle_copy)), check_hashes=False)
