"""The real default bundle (Qwen2.5-Coder-0.5B, int8) through a real LSP client.

These need the bundle `make bundle` builds (`make test` builds it first); CI runs them.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import pytest_asyncio
from lsprotocol import types

from tenon.bundle import BundleError, load_bundle
from tenon.paths import default_bundle_path
from tests.support.lsp_client import (
    end_position,
    field,
    open_doc,
    server_command,
    start,
    wait_for_state,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def default_bundle():
    try:
        return load_bundle(default_bundle_path(), check_hashes=False)
    except BundleError as exc:
        pytest.fail(f"the default bundle is needed: run `make bundle` first ({exc})")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(default_bundle):
    import os

    env = dict(os.environ)
    lsp = await start(server_command(), env)
    status = await wait_for_state(lsp, {"ready", "error"}, timeout=300)
    assert field(status, "state") == "ready", status
    yield lsp
    await lsp.shutdown_session()


async def complete_at_end(client, uri: str, text: str) -> str:
    open_doc(client, uri, text)
    result = await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri), position=end_position(text),
        context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked)))
    assert len(result.items) == 1, "expected one completion"
    return result.items[0].insert_text


def run_checks(program: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", "-c", program], capture_output=True,
                          text=True, timeout=60, check=False)


async def test_comment_above_an_empty_function_gives_working_code(client):
    text = "# return the n-th Fibonacci number\ndef fib(n):\n    "
    completion = await complete_at_end(client, "file:///tmp/fib_comment.py", text)
    program = text + completion + textwrap.dedent("""

        assert [fib(i) for i in range(2, 11)] == [1, 2, 3, 5, 8, 13, 21, 34, 55] or \\
               [fib(i) for i in range(3, 12)] == [1, 2, 3, 5, 8, 13, 21, 34, 55]
        print("ok")
        """)
    done = run_checks(program)
    assert done.stdout.strip() == "ok", (completion, done.stderr)


async def test_docstring_body(client):
    text = ('def count_vowels(text: str) -> int:\n'
            '    """Return how many vowels (a, e, i, o, u) are in text, ignoring case."""\n    ')
    completion = await complete_at_end(client, "file:///tmp/vowels.py", text)
    program = text + completion + textwrap.dedent("""

        assert count_vowels("Education") == 5 and count_vowels("rhythm") == 0
        print("ok")
        """)
    done = run_checks(program)
    assert done.stdout.strip() == "ok", (completion, done.stderr)


async def test_chinese_intent_writes_fibonacci(client):
    text = "# 计算斐波那契数列的第n项\n"
    completion = await complete_at_end(client, "file:///tmp/fib_zh.py", text)
    assert "def " in completion
    program = text + completion + textwrap.dedent("""

        import inspect
        fn = [v for k, v in dict(globals()).items() if inspect.isfunction(v)][0]
        values = [fn(i) for i in range(3, 12)]
        assert all(values[i] + values[i + 1] == values[i + 2] for i in range(len(values) - 2))
        assert values[-1] > values[0] > 0
        print("ok")
        """)
    done = run_checks(program)
    assert done.stdout.strip() == "ok", (completion, done.stderr)


async def test_mid_line_gives_the_rest_of_the_line(client):
    text = "import os\n\n\ndef list_python_files(folder):\n    return [name for name in os.listdir("
    completion = await complete_at_end(client, "file:///tmp/midline.py", text)
    assert "\n" not in completion
    compile(text + completion, "midline.py", "exec")


async def test_generate_from_docstring_with_the_default_model(client):
    uri = "file:///tmp/docstring_action.py"
    text = ('def word_count(text: str) -> int:\n'
            '    """Return the number of words in text.\n\n'
            '    >>> word_count("a b  c")\n    3\n    """\n    pass\n')
    open_doc(client, uri, text)
    here = types.Position(0, 4)
    (action,) = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri), range=types.Range(here, here),
        context=types.CodeActionContext(diagnostics=[])))
    resolved = await client.code_action_resolve_async(action)
    edit = resolved.edit.document_changes[0].edits[0]
    assert edit.range.start == types.Position(5, 7) and edit.range.end == types.Position(6, 8)
    assert edit.new_text.startswith("\n    ") and "pass" not in edit.new_text
    assert "1/1 doctest examples pass" in resolved.title
    lines = text.split("\n")
    new = "\n".join(lines[:5]) + "\n" + lines[5][:7] + edit.new_text + "\n"
    done = run_checks(new + 'assert word_count("one two three") == 3\nprint("ok")\n')
    assert done.stdout.strip() == "ok", (new, done.stderr)
