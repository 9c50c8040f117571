"""Generated code runs only in the sandbox, and the sandbox stops what must not run."""

import os
import socket
import subprocess
from pathlib import Path

import pytest

from tenon.sandbox import Limits, _isolate, mount_points, run

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
        ("rename out",
         "import os\nopen('a', 'w').write('x')\nos.rename('a', '/tmp/tenon-escape-3')",
         "os.rename outside the work folder is not allowed"),
        ("hard link out",
         "import os\nopen('a', 'w').write('x')\nos.link('a', '/tmp/tenon-escape-3')",
         "os.link outside the work folder is not allowed"),
        ("folder descriptor", "import os\nfd = os.open('/tmp', os.O_RDONLY)\n"
         "os.open('tenon-escape-3', os.O_WRONLY | os.O_CREAT, dir_fd=fd)",
         "opening the folder '/tmp' is not allowed"),
        ("sqlite", "import sqlite3\nsqlite3.connect('/tmp/tenon-escape-3')", "importing sqlite3"),
        ("fifo", "import os\nos.mkfifo('/tmp/tenon-escape-3')", "has no attribute 'mkfifo'"),
        ("device node", "import posix\nposix.mknod('/tmp/tenon-escape-3')",
         "has no attribute 'mknod'"),
        ("shared memory", "import _posixshmem", "importing _posixshmem"),
        ("kill the server", "import os\nos.kill(os.getppid(), 9)", "os.kill is not allowed"),
        ("urllib", "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:9')",
         "importing socket is not allowed"),
    ],
)
def test_refused(name, code, message):
    result = run(code, FAST)
    assert result.data is None, name
    assert message in result.stderr, (name, result.stderr)
    for path in ("/tmp/tenon-sandbox-escape", "/tmp/tenon-escape-2", "/tmp/tenon-escape-3"):
        assert not os.path.exists(path), (name, path)


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


@pytest.mark.parametrize("code", [
    "import time\ntime.sleep(10**6)",  # no CPU used: only the wall clock stops it
    "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "signal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    try:\n        pass\n"
    "    except BaseException:\n        pass",
])
def test_code_that_will_not_stop_is_killed(code):
    result = run(code, Limits(timeout_s=1.5))
    assert result.timed_out and result.exit_code == -9


def test_thread_bomb_runs_out_of_room():
    code = ("import threading, time\nn = 0\ntry:\n    while True:\n"
            "        threading.Thread(target=time.sleep, args=(100,), daemon=True).start()\n"
            "        n += 1\nexcept RuntimeError:\n    RESULT = n")
    result = run(code, FAST)
    assert isinstance(result.data, int) and result.data < 1000


def test_a_crash_in_the_child_is_only_the_child(tmp_path):
    result = run("import ctypes", FAST)  # refused, and the parent carries on
    assert result.data is None
    crashed = run("import faulthandler\nfaulthandler._sigsegv()", FAST)
    assert crashed.exit_code == -11 and crashed.data is None
    assert run("RESULT = 1", FAST).data == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="the read-only mount namespace needs root")
def test_outside_the_work_folder_the_file_system_is_read_only(tmp_path):
    """The layer under the audit hook, on its own: a shell (no hook) in the namespace."""
    work = tmp_path / "work"
    work.mkdir()
    outside = tmp_path / "outside"
    before = Path("/proc/self/mountinfo").read_text()
    mounts = mount_points()
    done = subprocess.run(
        ["sh", "-c", f"touch inside && (touch {outside} 2>&1 || true) && "
                     "(touch /dev/shm/tenon-escape 2>&1 || true)"],
        cwd=work, capture_output=True, text=True, timeout=60, check=False,
        preexec_fn=lambda: _isolate(os.fsencode(work), mounts))
    assert (work / "inside").exists()
    assert not outside.exists() and not Path("/dev/shm/tenon-escape").exists()
    assert done.stdout.count("Read-only file system") == 2
    assert Path("/proc/self/mountinfo").read_text() == before  # the host saw nothing
