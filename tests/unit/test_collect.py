"""Extra context: definitions from other open documents, and the file's own imports."""

from tenon.context.collect import (
    DefinitionIndex,
    SourceDoc,
    collect_context,
    definitions_in,
    imports_of,
    used_names,
)
from tenon.context.prompt import Budgets, build_prompt
from tenon.prompt_format import ContextSnippet, FimTokens

UTIL = '''import json


def load_config(path: str) -> dict:
    """Read the JSON config at path.

    Longer explanation that is not needed in a prompt.
    """
    with open(path) as handle:
        return json.load(handle)


class Server:
    """A tiny server."""

    def start(self, port: int) -> None:
        """Start listening on port."""
        raise RuntimeError

    def stop(self):
        pass
'''


def count(text: str) -> int:
    return len(text.split())


def test_definitions_are_summarised_to_signature_and_docstring():
    found = definitions_in(UTIL)
    assert found["load_config"] == ('def load_config(path: str) -> dict:\n'
                                    '    """Read the JSON config at path."""\n    ...')
    assert "    def start(self, port: int) -> None:" in found["Server"]
    assert '        """Start listening on port."""' in found["Server"]
    assert "json.load" not in found["load_config"]


def test_half_written_other_file_gives_nothing_not_an_error():
    assert definitions_in("def broken(:\n") == {}


def test_names_used_near_the_cursor_pull_in_definitions():
    current = "from util import load_config\n\nsettings = load_config('a.json')\nsrv = Server()\n"
    others = [SourceDoc("file:///proj/pkg/util.py", 3, UTIL),
              SourceDoc("file:///proj/other.py", 1, "def unrelated():\n    pass\n")]
    context = collect_context(current, current, others, DefinitionIndex())
    assert [s.path for s in context] == ["pkg/util.py", "pkg/util.py"]
    assert context[0].text.startswith("class Server:")  # the nearest use first
    assert context[1].text.startswith("def load_config")


def test_local_definitions_are_not_looked_up_elsewhere():
    current = "def load_config(p):\n    return {}\n\nx = load_config('a')\n"
    context = collect_context(current, current, [SourceDoc("file:///u.py", 1, UTIL)],
                              DefinitionIndex())
    assert context == ()


def test_index_caches_by_version():
    index = DefinitionIndex()
    doc = SourceDoc("file:///u.py", 1, UTIL)
    assert index.of(doc) is index.of(doc)
    assert "load_config" in index.of(SourceDoc("file:///u.py", 2, UTIL))


def test_used_names_nearest_first():
    assert used_names("a = foo()\nb = bar(a)\n")[:3] == ["a", "bar", "b"]


def test_imports_return_when_the_prefix_is_cut():
    prefix = "import os\nfrom pathlib import Path\n" + "x = 1\n" * 300 + "y = "
    header = ContextSnippet("mod.py", imports_of(prefix))
    built = build_prompt(prefix, "", Budgets(prefix_tokens=50, context_tokens=100), count, None,
                         (), header)
    assert built.text.startswith("# file: mod.py\nimport os\nfrom pathlib import Path\n\n")
    uncut = build_prompt(prefix[:40], "", Budgets(), count, None, (), header)
    assert uncut.text == prefix[:40]


def test_context_goes_inside_the_fim_prefix():
    snippet = ContextSnippet("pkg/util.py", "def load_config(path): ...")
    fim = FimTokens("<P>", "<S>", "<M>")
    built = build_prompt("x = load_config(", ")\n", Budgets(), count, fim, (snippet,))
    assert built.text == ("<P># file: pkg/util.py\ndef load_config(path): ...\n\n"
                          "x = load_config(<S>)\n<M>")
