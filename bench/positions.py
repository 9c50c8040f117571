"""Cursor positions drawn from real Python files (the standard library of the running Python).

Each position is a document as an editor would hold it while the developer writes, and the
cursor in it:

- ``line``: a one-line statement cut at a point inside it (the rest of the line not typed
  yet; the lines after it are there);
- ``body``: a function whose docstring is written and whose body is not (the body removed,
  the cursor indented on the line after the docstring);
- ``comment``: an own-line comment followed by the statement it describes, that statement
  removed and the cursor indented under the comment.

Every position is kept only if Tenon's own classifier puts the cursor in the intended mode.
The choice is deterministic for a given set of files (a seeded shuffle), and the files'
hashes are recorded with the results.
"""

from __future__ import annotations

import ast
import hashlib
import random
import sysconfig
from dataclasses import asdict, dataclass
from pathlib import Path

from tenon.context.classify import classify
from tenon.context.snapshot import make_snapshot

FILES = (
    "argparse.py", "ast.py", "base64.py", "bisect.py", "calendar.py", "configparser.py",
    "contextlib.py", "csv.py", "dataclasses.py", "difflib.py", "enum.py", "fnmatch.py",
    "fractions.py", "ftplib.py", "functools.py", "glob.py", "gzip.py", "heapq.py", "hmac.py",
    "imaplib.py", "inspect.py", "ipaddress.py", "json/decoder.py", "json/encoder.py",
    "locale.py", "logging/__init__.py", "logging/handlers.py", "mailbox.py", "netrc.py",
    "ntpath.py", "numbers.py", "optparse.py", "pathlib.py", "pickle.py", "pprint.py",
    "queue.py", "random.py", "sched.py", "secrets.py", "selectors.py", "shlex.py", "shutil.py",
    "smtplib.py", "socket.py", "statistics.py", "string.py", "subprocess.py", "tarfile.py",
    "tempfile.py", "textwrap.py", "threading.py", "tokenize.py", "trace.py", "typing.py",
    "urllib/parse.py", "uuid.py", "warnings.py", "weakref.py", "zipfile/__init__.py",
    "zipfile.py",
)
KINDS = ("line", "body", "comment")
SKIP_COMMENTS = ("#!", "# -*-", "# noqa", "# type:", "# pragma", "# XXX", "# TODO", "# fmt")


@dataclass(frozen=True)
class Position:
    kind: str  # "line", "body" or "comment"
    source: str  # file, relative to the standard library
    text: str  # the document as the editor holds it
    line: int  # 0-based cursor line
    character: int  # cursor column (UTF-16 code units; these files are ASCII where it matters)
    expected: str  # what the original file has at the cursor (rest of line / removed code)

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("text")
        return data


def stdlib_files(root: Path | None = None) -> list[Path]:
    base = root or Path(sysconfig.get_paths()["stdlib"])
    return [base / name for name in FILES if (base / name).is_file()]


def _line_positions(path: str, lines: list[str], tree: ast.AST, rng: random.Random):
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt) or isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            continue
        if node.lineno != node.end_lineno:
            continue
        line = lines[node.lineno - 1]
        content = line.strip()
        if not 24 <= len(content) <= 100 or not line.isascii():
            continue
        start = len(line) - len(line.lstrip())
        cuts = [i for i in range(start + len(content) * 3 // 10, start + len(content) * 7 // 10)
                if line[i - 1] in " (.=,[" and line[i] != " "]
        if not cuts:
            continue
        cut = rng.choice(cuts)
        row = node.lineno - 1
        text = "\n".join([*lines[:row], line[:cut], *lines[row + 1 :]])
        yield Position("line", path, text, row, cut, line[cut:])


def _body_positions(path: str, lines: list[str], tree: ast.AST):
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or len(node.body) < 2:
            continue
        doc = node.body[0]
        if not (isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant)
                and isinstance(doc.value.value, str)):
            continue
        first = node.body[1]
        indent = lines[first.lineno - 1][: first.col_offset]
        end = node.end_lineno or first.lineno
        removed = "\n".join(lines[doc.end_lineno : end])
        text = "\n".join([*lines[: doc.end_lineno], indent, *lines[end:]])
        yield Position("body", path, text, doc.end_lineno, len(indent), removed)


def _comment_positions(path: str, lines: list[str], tree: ast.AST):
    starts = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not isinstance(
            node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        ):
            starts.setdefault(node.lineno, node)
    for row, line in enumerate(lines):
        content = line.strip()
        if not content.startswith("# ") or content.startswith(SKIP_COMMENTS):
            continue
        if len(content) < 16 or not line.isascii():
            continue
        node = starts.get(row + 2)  # the statement on the next line (1-based)
        if node is None or node.col_offset != len(line) - len(line.lstrip()):
            continue
        end = node.end_lineno or node.lineno
        if end - node.lineno > 12:
            continue
        indent = line[: node.col_offset]
        removed = "\n".join(lines[row + 1 : end])
        text = "\n".join([*lines[: row + 1], indent, *lines[end:]])
        yield Position("comment", path, text, row + 1, len(indent), removed)


def candidates(file: Path, root: Path, seed: int) -> dict[str, list[Position]]:
    source = file.read_text(encoding="utf-8")
    lines = source.split("\n")
    tree = ast.parse(source)
    rel = str(file.relative_to(root))
    rng = random.Random(f"{seed}:{rel}")
    return {
        "line": list(_line_positions(rel, lines, tree, rng)),
        "body": list(_body_positions(rel, lines, tree)),
        "comment": list(_comment_positions(rel, lines, tree)),
    }


def mode_of(position: Position) -> str:
    snapshot = make_snapshot("file:///bench.py", 1, "python", position.text, position.line,
                             position.character)
    return classify(snapshot).mode


def draw(counts: dict[str, int], seed: int = 0, root: Path | None = None) -> list[Position]:
    """``counts[kind]`` positions of each kind, spread over the files, in a shuffled order."""
    base = root or Path(sysconfig.get_paths()["stdlib"])
    pools: dict[str, list[list[Position]]] = {kind: [] for kind in KINDS}
    for file in stdlib_files(base):
        found = candidates(file, base, seed)
        rng = random.Random(f"{seed}:{file.name}")
        for kind in KINDS:
            rng.shuffle(found[kind])
            pools[kind].append(found[kind])
    chosen: list[Position] = []
    for kind in KINDS:
        chosen += _round_robin(pools[kind], counts.get(kind, 0))
    random.Random(seed).shuffle(chosen)
    return chosen


def _round_robin(pools: list[list[Position]], wanted: int) -> list[Position]:
    """Take one position from each file in turn, keeping those the classifier agrees with."""
    taken: list[Position] = []
    index = [0] * len(pools)
    while len(taken) < wanted and any(i < len(p) for i, p in zip(index, pools, strict=True)):
        for f, pool in enumerate(pools):
            while index[f] < len(pool):
                position = pool[index[f]]
                index[f] += 1
                if mode_of(position) == position.kind:
                    taken.append(position)
                    break
            if len(taken) == wanted:
                break
    return taken


def file_hashes(root: Path | None = None) -> dict[str, str]:
    base = root or Path(sysconfig.get_paths()["stdlib"])
    return {str(f.relative_to(base)): hashlib.sha256(f.read_bytes()).hexdigest()[:16]
            for f in stdlib_files(base)}
