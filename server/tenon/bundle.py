"""The model bundle: the one contract between training and serving.

A bundle is a folder holding one or more ONNX graphs (with their external data),
``tokenizer.json`` and ``manifest.json``. The manifest is written last, so its presence means
the export finished. It carries everything the server needs: the graph's inputs and outputs
and KV-cache shape, vocabulary facts, the prompt format, checksums, provenance and
evaluation results. :func:`load_bundle` validates all of it and raises :class:`BundleError`
with a message that says what is wrong and what to do.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tenon import prompt_format

MANIFEST_NAME = "manifest.json"
SCHEMA_VERSION = 1
REBUILD_HINT = "Rebuild it with `tenon-train export` (or `make bundle` for the default model)."


class BundleError(Exception):
    """A bundle that cannot be served; the message is meant for the user."""


@dataclass(frozen=True)
class Architecture:
    family: str
    num_layers: int
    num_kv_heads: int
    head_dim: int
    vocab_size: int
    max_positions: int


@dataclass(frozen=True)
class GraphIO:
    """Names of the decode graph's inputs and outputs; ``{layer}`` stands for the index."""

    input_ids: str
    position_ids: str | None
    past_key: str
    past_value: str
    present_key: str
    present_value: str
    logits: str
    logits_last_only: bool


@dataclass(frozen=True)
class GraphVariant:
    """One ONNX graph of the bundle, for one kind of device."""

    file: str
    dtype: str
    quantization: str | None
    devices: tuple[str, ...]


@dataclass(frozen=True)
class FimSpec:
    prefix: str
    suffix: str
    middle: str
    ids: tuple[int, int, int]

    def tokens(self) -> prompt_format.FimTokens:
        return prompt_format.FimTokens(self.prefix, self.suffix, self.middle)


@dataclass(frozen=True)
class Vocabulary:
    file: str
    eos_ids: tuple[int, ...]
    stop_ids: tuple[int, ...]
    special_tokens: tuple[str, ...]
    fim: FimSpec | None
    end_token: str


@dataclass(frozen=True)
class PromptFormat:
    name: str
    version: int


@dataclass(frozen=True)
class Manifest:
    schema_version: int
    name: str
    architecture: Architecture
    io: GraphIO
    graphs: dict[str, GraphVariant]
    vocabulary: Vocabulary
    prompt_format: PromptFormat
    files: dict[str, dict[str, Any]]
    provenance: dict[str, Any] = field(default_factory=dict)
    parity: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


@dataclass(frozen=True)
class Bundle:
    path: Path
    manifest: Manifest

    def file(self, name: str) -> Path:
        return self.path / name

    def graph_for(self, device: str) -> GraphVariant:
        """The graph meant for ``device`` ("cpu" or "cuda"), else any graph."""
        for variant in self.manifest.graphs.values():
            if device in variant.devices:
                return variant
        return next(iter(self.manifest.graphs.values()))


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _require(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise BundleError(f"manifest.json lacks `{where}{key}`. {REBUILD_HINT}")
    return data[key]


def _vocabulary(data: dict[str, Any]) -> Vocabulary:
    fim = data.get("fim")
    fim_spec = None
    if fim is not None:
        fim_spec = FimSpec(fim["prefix"], fim["suffix"], fim["middle"], tuple(fim["ids"]))
    return Vocabulary(
        file=_require(data, "file", "vocabulary."),
        eos_ids=tuple(_require(data, "eos_ids", "vocabulary.")),
        stop_ids=tuple(data.get("stop_ids", ())),
        special_tokens=tuple(data.get("special_tokens", ())),
        fim=fim_spec,
        end_token=_require(data, "end_token", "vocabulary."),
    )


def parse_manifest(data: dict[str, Any]) -> Manifest:
    """Turn manifest JSON into a :class:`Manifest`, checking versions first."""
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        newer = isinstance(version, int) and version > SCHEMA_VERSION
        hint = "Upgrade Tenon to serve it." if newer else REBUILD_HINT
        raise BundleError(
            f"manifest.json has schema version {version!r}; this Tenon reads version "
            f"{SCHEMA_VERSION}. {hint}"
        )
    fmt = _require(data, "prompt_format", "")
    if fmt.get("name") != prompt_format.PROMPT_FORMAT_NAME or (
        fmt.get("version") not in prompt_format.SUPPORTED_VERSIONS
    ):
        raise BundleError(
            f"the bundle was trained for prompt format {fmt.get('name')!r} version "
            f"{fmt.get('version')!r}; this Tenon speaks {prompt_format.PROMPT_FORMAT_NAME!r} "
            f"versions {list(prompt_format.SUPPORTED_VERSIONS)}. Serve it with the Tenon "
            "version that trained it, or re-export it."
        )
    graphs = {
        key: GraphVariant(
            file=_require(g, "file", f"graphs.{key}."),
            dtype=_require(g, "dtype", f"graphs.{key}."),
            quantization=g.get("quantization"),
            devices=tuple(_require(g, "devices", f"graphs.{key}.")),
        )
        for key, g in _require(data, "graphs", "").items()
    }
    if not graphs:
        raise BundleError(f"manifest.json lists no graphs. {REBUILD_HINT}")
    return Manifest(
        schema_version=version,
        name=_require(data, "name", ""),
        architecture=Architecture(**_require(data, "architecture", "")),
        io=GraphIO(**_require(data, "io", "")),
        graphs=graphs,
        vocabulary=_vocabulary(_require(data, "vocabulary", "")),
        prompt_format=PromptFormat(fmt["name"], fmt["version"]),
        files=_require(data, "files", ""),
        provenance=data.get("provenance", {}),
        parity=data.get("parity", {}),
        evaluation=data.get("evaluation", {}),
    )


def verify_files(path: Path, manifest: Manifest, check_hashes: bool = True) -> None:
    """Every listed file exists with the recorded size (and sha256 if asked)."""
    needed = {manifest.vocabulary.file} | {g.file for g in manifest.graphs.values()}
    unlisted = needed - set(manifest.files)
    if unlisted:
        raise BundleError(f"manifest.json does not list {sorted(unlisted)}. {REBUILD_HINT}")
    for name, facts in manifest.files.items():
        file = path / name
        if not file.is_file():
            raise BundleError(f"bundle file `{name}` is missing from {path}. {REBUILD_HINT}")
        size = file.stat().st_size
        if size != facts.get("bytes"):
            raise BundleError(
                f"bundle file `{name}` has {size} bytes, the manifest says {facts.get('bytes')}"
                f" (truncated or replaced). {REBUILD_HINT}"
            )
        if check_hashes and sha256_file(file) != facts.get("sha256"):
            raise BundleError(
                f"bundle file `{name}` does not match its sha256 checksum (corrupted or "
                f"replaced). {REBUILD_HINT}"
            )


def used_files(manifest: Manifest, variant: GraphVariant) -> list[str]:
    """The files serving one graph variant reads: tokenizer, graph and its external data."""
    names = [manifest.vocabulary.file, variant.file]
    return names + [name for name in manifest.files if name.startswith(variant.file + ".")]


def verify_hashes(bundle: Bundle, names: list[str]) -> None:
    for name in names:
        if sha256_file(bundle.file(name)) != bundle.manifest.files[name].get("sha256"):
            raise BundleError(
                f"bundle file `{name}` does not match its sha256 checksum (corrupted or "
                f"replaced). {REBUILD_HINT}"
            )


def load_bundle(path: str | Path, check_hashes: bool = True) -> Bundle:
    """Load and validate the bundle at ``path``; raise :class:`BundleError` if unusable."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise BundleError(
            f"no model bundle at {folder}. Build the default one with `make bundle` "
            "(or `tenon-train build-default`), or set `tenon.bundlePath`."
        )
    manifest_file = folder / MANIFEST_NAME
    if not manifest_file.is_file():
        raise BundleError(
            f"{folder} has no manifest.json: the export did not finish. {REBUILD_HINT}"
        )
    try:
        data = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"manifest.json in {folder} is not valid JSON ({exc}).") from exc
    if not isinstance(data, dict):
        raise BundleError(f"manifest.json in {folder} is not a JSON object. {REBUILD_HINT}")
    try:
        manifest = parse_manifest(data)
    except (KeyError, TypeError, AttributeError) as exc:
        raise BundleError(
            f"manifest.json in {folder} is malformed ({exc!r}). {REBUILD_HINT}"
        ) from exc
    verify_files(folder, manifest, check_hashes=False)
    bundle = Bundle(folder, manifest)
    if check_hashes:
        verify_hashes(bundle, list(manifest.files))
    return bundle


def file_facts(folder: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    """Size and sha256 of each file, for a manifest's ``files`` table."""
    return {
        name: {"bytes": (folder / name).stat().st_size, "sha256": sha256_file(folder / name)}
        for name in sorted(names)
    }
