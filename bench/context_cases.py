"""Held-out evaluation cases drawn from the Python standard library, blanked out.

Nobody wrote these for the purpose: each case is a real function, comment or line from a
held-out stdlib module with part of it removed. Four kinds:

- ``line``: a code line cut mid-way; expected: the rest of the line;
- ``comment``: the cursor on the line after a comment; expected: the block it describes;
- ``body``: a function with a docstring and its body removed; expected: the body;
- ``doctest``: like ``body``, for functions whose docstring has examples that pass with the
  original body (checked in the sandbox); scored by running the examples.

The held-out modules are listed in ``training/tenon_train/dataset/heldout_stdlib.txt``;
the training corpus (``tenon_train.dataset.sources.stdlib``) leaves them out.
``python bench/context_cases.py`` rewrites both files.
"""

from __future__ import annotations

import ast
import hashlib
import json
import random
import sys
import sysconfig
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "server"), str(ROOT)]

from tenon.context.stubs import examples_of  # noqa: E402
from tenon.doctests import run_doctests  # noqa: E402

DATA = ROOT / "bench" / "data"
CASES = DATA / "context_cases.jsonl"
HELDOUT = ROOT / "training" / "tenon_train" / "dataset" / "heldout_stdlib.txt"
SKIP_PARTS = {"test", "tests", "encodings", "idlelib", "tkinter", "lib2to3", "ensurepip",
              "site-packages", "turtledemo", "pydoc_data", "__phello__", "distutils", "turtle.py",
              "antigravity.py", "this.py"}
DOCTEST_MODULES = ("statistics.py", "difflib.py", "collections/__init__.py", "fractions.py",
                   "textwrap.py", "pickletools.py", "_pydecimal.py", "secrets.py",
                   "ipaddress.py", "shutil.py", "json/encoder.py", "datetime.py", "enum.py")
QUOTAS = {"line": 60, "comment": 50, "body": 50, "doctest": 40}


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    module: str  # path relative to the standard library
    offset: int  # where the removed text starts in the module's source
    expected: str  # what was removed; the cursor sits where it was
    function: str = ""
    def_line: int = 0  # 1-based line of the function's ``def`` in the original source
    examples: int = 0

    def source(self) -> str:
        return (stdlib_root() / self.module).read_text(encoding="utf-8")

    def document(self, source: str | None = None) -> str:
        source = self.source() if source is None else source
        return source[: self.offset] + source[self.offset + len(self.expected) :]

    def cursor(self, document: str) -> tuple[int, int]:
        """(line, UTF-16 column) of the cursor in the document."""
        line = document.count("\n", 0, self.offset)
        start = document.rfind("\n", 0, self.offset) + 1
        return line, utf16(document[start : self.offset])


def stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def stdlib_files() -> list[Path]:
    root = stdlib_root()
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if not SKIP_PARTS & set(rel.parts):
            found.append(path)
    return found


def is_heldout(rel: str) -> bool:
    return rel in DOCTEST_MODULES or int(hashlib.sha256(rel.encode()).hexdigest(), 16) % 5 == 0


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def cursor_case(kind: str, module: str, offset: int, expected: str, **extra) -> Case:
    digest = hashlib.sha256(f"{module}:{kind}:{offset}".encode()).hexdigest()[:10]
    return Case(f"{kind}-{digest}", kind, module, offset, expected, **extra)


def line_starts(source: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(source):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def function_body(source: str, starts: list[int], node: ast.FunctionDef,
                  whole_lines: bool) -> tuple[int, str]:
    """Where the body after the docstring starts and its text up to the function's end.

    The body starts at its first statement (the cursor after the indentation), or, with
    ``whole_lines``, right after the docstring (the body's lines removed entirely).
    """
    first, doc = node.body[1], node.body[0]
    begin = starts[first.lineno - 1] + first.col_offset
    if whole_lines:
        begin = starts[doc.end_lineno - 1] + len(
            source[starts[doc.end_lineno - 1]:].split("\n", 1)[0])
    end = starts[node.end_lineno] - 1 if node.end_lineno < len(starts) else len(source)
    return begin, source[begin:end].rstrip()


def body_cases(module: str, source: str, tree: ast.AST, doctests: bool) -> list[Case]:
    starts = line_starts(source)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        doc = ast.get_docstring(node)
        if not doc or len(node.body) < 2 or node.body[1].lineno == node.body[0].end_lineno:
            continue
        size = node.end_lineno - node.body[1].lineno + 1
        examples = examples_of(doc)
        if not 1 <= size <= 25 or bool(examples) != doctests:
            continue
        begin, body = function_body(source, starts, node, whole_lines=doctests)
        kind = "doctest" if doctests else "body"
        found.append(cursor_case(kind, module, begin, body, function=node.name,
                                 def_line=node.lineno, examples=len(examples)))
    return found


def string_lines(tree: ast.AST) -> set[int]:
    """0-based lines that lie inside multi-line string literals (docstrings and the like)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.end_lineno:
            inside.update(range(node.lineno - 1, node.end_lineno))
    return inside


def statement_lists(tree: ast.AST):
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                yield stmts


def step_end(lines: list[str], stmts: list[ast.stmt], k: int, max_lines: int) -> int | None:
    """Last line (1-based) of the step that starts at ``stmts[k]``: following statements
    join it until a blank or comment line separates them."""
    first, end = stmts[k].lineno, stmts[k].end_lineno or stmts[k].lineno
    for nxt in stmts[k + 1 :]:
        gap = lines[end : nxt.lineno - 1]
        if gap or (nxt.end_lineno or nxt.lineno) - first + 1 > max_lines:
            break
        end = nxt.end_lineno or nxt.lineno
    return end if end - first + 1 <= max_lines else None


def comment_cases(module: str, source: str, tree: ast.AST, strings: set[int]) -> list[Case]:
    """A comment line right above a statement (inside a block); expected: that step."""
    lines = source.split("\n")
    starts = line_starts(source)
    found = []
    for stmts in statement_lists(tree):
        for k, statement in enumerate(stmts):
            above = statement.lineno - 2
            indent = " " * statement.col_offset
            if above < 0 or above in strings or not indent:
                continue
            if not lines[above].startswith(indent + "#") or (isinstance(statement, ast.Expr) and (
                    isinstance(statement.value, ast.Constant))):
                continue
            end = step_end(lines, stmts, k, max_lines=12)
            if end is None:
                continue
            begin = starts[statement.lineno - 1] + statement.col_offset
            stop = starts[end] - 1 if end < len(starts) else len(source)
            found.append(cursor_case("comment", module, begin, source[begin:stop].rstrip()))
    return found


def line_cases(module: str, source: str, strings: set[int], rng: random.Random) -> list[Case]:
    lines = source.split("\n")
    starts = line_starts(source)
    found = []
    for i, line in enumerate(lines):
        if i in strings:
            continue
        code = line.strip()
        if len(code) < 24 or code.startswith(("#", '"', "'", "@")) or line == code:
            continue
        code_start = len(line) - len(line.lstrip()) + 4
        cuts = [j for j, ch in enumerate(line) if ch in " (.=[" and
                max(code_start, len(line) * 0.35) < j < len(line) * 0.8]
        if not cuts:
            continue
        cut = rng.choice(cuts) + 1
        found.append(cursor_case("line", module, starts[i] + cut, line[cut:]))
    return found


def docstring_of(source: str, case: Case) -> str:
    """The docstring of the case's function in the original source."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                node.lineno == case.def_line):
            return ast.get_docstring(node) or ""
    return ""


def passes_with_original(case: Case) -> bool:
    source = case.source()
    outcome = run_doctests(source, docstring_of(source, case), case.function, case.examples)
    return outcome.passed == outcome.attempted == case.examples


def collect(seed: int = 0) -> tuple[list[Case], list[str]]:
    rng = random.Random(seed)
    root = stdlib_root()
    pools: dict[str, list[Case]] = {kind: [] for kind in QUOTAS}
    heldout = []
    for path in stdlib_files():
        rel = str(path.relative_to(root))
        if not is_heldout(rel):
            continue
        heldout.append(rel)
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        strings = string_lines(tree)
        pools["line"] += line_cases(rel, source, strings, rng)
        pools["comment"] += comment_cases(rel, source, tree, strings)
        pools["body"] += body_cases(rel, source, tree, doctests=False)
        if rel in DOCTEST_MODULES:
            pools["doctest"] += body_cases(rel, source, tree, doctests=True)
    chosen = []
    for kind, quota in QUOTAS.items():
        pool = pools[kind]
        rng.shuffle(pool)
        if kind == "doctest":
            pool = [c for c in pool if passes_with_original(c)]
        chosen += pool[:quota]
    return chosen, heldout


def main() -> None:
    cases, heldout = collect()
    DATA.mkdir(parents=True, exist_ok=True)
    with CASES.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"python": sys.version.split()[0], "seed": 0}) + "\n")
        for case in cases:
            out.write(json.dumps(asdict(case), ensure_ascii=False) + "\n")
    HELDOUT.write_text("\n".join(heldout) + "\n", encoding="utf-8")
    counts = {kind: sum(c.kind == kind for c in cases) for kind in QUOTAS}
    print(f"{len(cases)} cases {counts} from {len(heldout)} held-out modules -> {CASES}")


if __name__ == "__main__":
    main()
