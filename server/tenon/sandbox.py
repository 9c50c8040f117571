"""Run untrusted (generated) Python in a separate, limited process; get data back.

The server never imports or executes generated code itself. Code runs in a fresh
``python -I`` subprocess with:

- a time limit (wall clock, and CPU time through ``RLIMIT_CPU``), after which the whole
  process group is killed;
- a memory limit (``RLIMIT_AS``) and a file-size limit;
- no network: a new network namespace where the kernel allows it (root, or unprivileged
  user namespaces), and in every case an audit hook that refuses sockets;
- no new processes: the audit hook refuses fork, exec, spawn, ``os.system`` and
  ``subprocess``; as root the child also drops to user ``nobody``, where
  ``RLIMIT_NPROC`` applies;
- a temporary working directory, removed afterwards; writes anywhere else are refused;
- an empty environment (nothing inherited that matters).

The child prints one JSON line that the parent parses; its output is data, never code.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NOBODY = 65534
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
RESULT_MARK = "__TENON_SANDBOX_RESULT__"


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 5.0
    memory_mb: int = 512
    file_mb: int = 16
    output_bytes: int = 64_000


@dataclass(frozen=True)
class SandboxResult:
    ok: bool  # the child ran to the end and reported a result
    data: Any  # what the child reported (JSON), or None
    timed_out: bool
    exit_code: int | None
    stderr: str
    seconds: float


GUARD = r'''
import os, sys
ROOT = os.path.realpath(os.getcwd())
BLOCKED = {"os.system", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec",
           "os.kill", "os.killpg", "subprocess.Popen", "socket.connect", "socket.bind",
           "socket.sendto", "socket.getaddrinfo", "ctypes.dlopen", "ctypes.dlsym",
           "os.chdir", "os.setuid", "pty.spawn", "resource.setrlimit"}
WRITES = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown",
          "os.link", "os.symlink", "os.truncate", "os.utime", "shutil.rmtree", "shutil.move"}
def _inside(path):
    try:
        real = os.path.realpath(os.fsdecode(path))
    except Exception:
        return False
    return real == ROOT or real.startswith(ROOT + os.sep)
NO_IMPORT = {"_posixsubprocess", "_ctypes", "ctypes", "_socket", "socket", "subprocess",
             "multiprocessing", "pty", "_xxsubinterpreters", "_testcapi"}
def _guard(event, args):
    if event == "import" and args and args[0] in NO_IMPORT:
        raise ImportError(f"sandbox: importing {args[0]} is not allowed")
    if event in BLOCKED or event.startswith("os.exec"):
        raise PermissionError(f"sandbox: {event} is not allowed")
    if event == "socket.__new__" and args and args[1] not in (1,):  # AF_UNIX only
        raise PermissionError("sandbox: network access is not allowed")
    if event == "open" and len(args) > 1 and isinstance(args[0], (str, bytes)):
        mode = args[1] if isinstance(args[1], str) else ""
        flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
        writing = any(c in mode for c in "wax+") or flags & (os.O_WRONLY | os.O_RDWR)
        if writing and not _inside(args[0]):
            raise PermissionError(f"sandbox: writing {args[0]!r} is not allowed")
    if event in WRITES and args and isinstance(args[0], (str, bytes)) and not _inside(args[0]):
        raise PermissionError(f"sandbox: {event} outside the work folder is not allowed")
sys.addaudithook(_guard)
del _guard
'''


def _unshare_network() -> None:
    """Enter a new network namespace (only loopback, down) if the kernel lets us."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return
    libc = ctypes.CDLL(libc_name, use_errno=True)
    flags = CLONE_NEWNET if os.geteuid() == 0 else CLONE_NEWNET | CLONE_NEWUSER
    libc.unshare(flags)  # failure is tolerated: the audit hook still refuses sockets


def interpreter_is_public() -> bool:
    """Can user ``nobody`` run this interpreter and read its standard library?"""
    for path in (Path(sys.executable).resolve(), Path(os.__file__).resolve()):
        for folder in path.parents:
            if not folder.stat().st_mode & 0o001:
                return False
        if not path.stat().st_mode & 0o004:
            return False
    return True


def _limit(limits: Limits, drop: bool) -> None:
    """Runs in the child between fork and exec: namespace, limits, user."""
    _unshare_network()
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = max(1, int(limits.timeout_s) + 1)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    size = limits.file_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if drop:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))


def wrap(code: str) -> str:
    """The child program: the guard, then ``code``, which sets ``RESULT`` (JSON-able)."""
    body = textwrap.indent(code, "    ")
    return (
        GUARD
        + "import json as _json\nRESULT = None\ntry:\n"
        + body
        + "\nfinally:\n"
        + f"    print({RESULT_MARK!r} + _json.dumps(RESULT, default=repr), flush=True)\n"
    )


def _parse(stdout: str) -> tuple[bool, Any]:
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            try:
                return True, json.loads(line[len(RESULT_MARK) :])
            except json.JSONDecodeError:
                return False, None
    return False, None


def run(code: str, limits: Limits | None = None) -> SandboxResult:
    """Run ``code`` in the sandbox. It reports by assigning ``RESULT``."""
    limits = limits or Limits()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tenon-sandbox-") as work:
        program = Path(work) / "program.py"
        program.write_text(wrap(code), encoding="utf-8", errors="surrogatepass")
        drop = os.geteuid() == 0 and interpreter_is_public()
        if drop:
            os.chown(work, NOBODY, NOBODY)
            os.chown(program, NOBODY, NOBODY)
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", str(program)], cwd=work,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, preexec_fn=lambda: _limit(limits, drop),
        )
        timed_out = False
        try:
            out, err = proc.communicate(timeout=limits.timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            out, err = proc.communicate()
    ok, data = _parse(out.decode("utf-8", "replace")[-limits.output_bytes :])
    return SandboxResult(ok and not timed_out, data, timed_out, proc.returncode,
                         err.decode("utf-8", "replace")[-limits.output_bytes :],
                         time.monotonic() - started)


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
