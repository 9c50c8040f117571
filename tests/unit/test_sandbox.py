"""Generated code runs only in the sandbox, and the sandbox stops what must not run."""

import os
import socket

import pytest

from tenon.sandbox import Limits, run

FAST = Limits(timeout_s=3, memory_mb=256)


def test_result_comes_back_as_data():
    result = run("RESULT = {'sum': sum(range(10))}", FAST)
    assert result.ok and result.data == {"sum": 45}


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        ("os.system", "import os\nRESULT = os.system('true')", "os.system is not allowed"),
        ("fork bomb", "import os\nwhile True:\n    os.fork()", "os.fork is not allowed"),
        ("subprocess", "import subprocess\nsubprocess.run(['true'])", "not allowed"),
        ("socket", "import socket\nsocket.create_connection(('127.0.0.1', 9))", "not allowed"),
        ("raw fork_exec", "import _posixsubprocess", "importing _posixsubprocess"),
        ("ctypes", "import ctypes\nctypes.CDLL(None)", "not allowed"),
        ("write outside", "open('/tmp/tenon-sandbox-escape', 'w').write('x')",
         "writing '/tmp/tenon-sandbox-escape' is not allowed"),
        ("os.open outside", "import os\nos.open('/tmp/tenon-escape-2', os.O_WRONLY | os.O_CREAT)",
         "not allowed"),
        ("remove outside", "import os\nos.remove('/etc/hostname')", "not allowed"),
    ],
)
def test_refused(name, code, message):
    result = run(code, FAST)
    assert result.data is None, name
    assert message in result.stderr, (name, result.stderr)
    assert not os.path.exists("/tmp/tenon-sandbox-escape")
    assert not os.path.exists("/tmp/tenon-escape-2")


def test_infinite_loop_is_killed_at_the_time_limit():
    result = run("while True:\n    pass", Limits(timeout_s=1.5))
    assert result.timed_out and not result.ok
    assert result.seconds < 10


def test_memory_bomb_is_stopped():
    result = run("x = bytearray(3_000_000_000)\nRESULT = 'allocated'", FAST)
    assert result.data is None and "MemoryError" in result.stderr


def test_network_is_unreachable_even_with_a_listening_server():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    code = f"import socket\ns = socket.create_connection(('127.0.0.1', {port}))\nRESULT = 1"
    result = run(code, FAST)
    server.close()
    assert result.data is None


def test_writes_inside_the_work_folder_are_fine_and_removed():
    result = run("open('note.txt', 'w').write('hi')\nimport os\nRESULT = os.getcwd()", FAST)
    assert result.ok and not os.path.exists(result.data)


def test_environment_is_not_inherited(monkeypatch):
    monkeypatch.setenv("TENON_SECRET", "s3cret")
    result = run("import os\nRESULT = sorted(os.environ)", FAST)
    assert "TENON_SECRET" not in result.data
