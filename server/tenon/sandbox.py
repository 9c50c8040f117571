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
- a temporary working directory, removed afterwards; writes anywhere else are refused:
  as root, in a mount namespace where every file system but that folder is read-only
  (which also stops writers the audit hook cannot see: sqlite3, ``os.mkfifo``,
  ``os.mknod``); in every case by the audit hook, which checks every path of a rename or
  link and refuses to open folders outside (a folder's descriptor is a way out through
  ``dir_fd``);
- an empty environment (nothing inherited that matters).

The child prints one JSON line that the parent parses; its output is data, never code.
"""

from __future__ import annotations

import contextlib
import ctypes
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
CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 32, 1024, 2048, 4096, 16384
MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 1 << 18, 1 << 21, 1 << 24
KEPT_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC,
              "noatime": MS_NOATIME, "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME,
              "strictatime": MS_STRICTATIME}
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
def _paths(args):
    return [a for a in args if isinstance(a, (str, bytes, os.PathLike))]
NO_IMPORT = {"_posixsubprocess", "_ctypes", "ctypes", "_socket", "socket", "subprocess",
             "multiprocessing", "pty", "_xxsubinterpreters", "_testcapi", "_sqlite3", "sqlite3",
             "_dbm", "_gdbm", "dbm", "_posixshmem", "readline"}  # these write from C
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
        if not _inside(args[0]) and os.path.isdir(args[0]):
            raise PermissionError(f"sandbox: opening the folder {args[0]!r} is not allowed")
    if event in WRITES and not all(_inside(p) for p in _paths(args)):  # a rename has two
        raise PermissionError(f"sandbox: {event} outside the work folder is not allowed")
import posix
for _name in ("mkfifo", "mknod"):  # they write outside and raise no audit event
    os.__dict__.pop(_name, None)
    posix.__dict__.pop(_name, None)
del posix, _name
sys.addaudithook(_guard)
del _guard
'''


def mount_points() -> list[tuple[bytes, int]]:
    """Every mount point and the flags a read-only remount must keep (read in the parent:
    the child between fork and exec should do as little as possible)."""
    points = []
    with contextlib.suppress(OSError), open("/proc/self/mountinfo", "rb") as table:
        for line in table:
            fields = line.split()
            point = fields[4].decode("unicode_escape").encode("latin-1")  # \040 and co.
            flags = 0
            for option in fields[5].decode().split(","):
                flags |= KEPT_FLAGS.get(option, 0)
            points.append((point, flags))
    return points


def _isolate(work: bytes, mounts: list[tuple[bytes, int]]) -> None:
    """New network namespace; as root also a mount namespace where only ``work`` is
    writable. Every failure is tolerated: the audit hook still guards."""
    libc = ctypes.CDLL(None, use_errno=True)
    if os.geteuid() != 0:
        libc.unshare(CLONE_NEWNET | CLONE_NEWUSER)
        return
    if libc.unshare(CLONE_NEWNET | CLONE_NEWNS) != 0:
        libc.unshare(CLONE_NEWNET)
        return
    # nothing done here may reach the host's mounts: make them all private first
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return
    if libc.mount(work, work, None, MS_BIND, None) != 0:  # the work folder: its own mount
        return
    os.chdir(work)  # the working directory was entered before: enter the new mount
    for point, kept in mounts:
        libc.mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept, None)


def interpreter_is_public() -> bool:
    """Can user ``nobody`` run this interpreter and read its standard library?"""
    for path in (Path(sys.executable).resolve(), Path(os.__file__).resolve()):
        for folder in path.parents:
            if not folder.stat().st_mode & 0o001:
                return False
        if not path.stat().st_mode & 0o004:
            return False
    return True


def _limit(limits: Limits, drop: bool, work: bytes, mounts: list[tuple[bytes, int]]) -> None:
    """Runs in the child between fork and exec: namespaces, limits, user."""
    _isolate(work, mounts)
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
        mounts = mount_points() if os.geteuid() == 0 else []
        if drop:
            os.chown(work, NOBODY, NOBODY)
            os.chown(program, NOBODY, NOBODY)
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", str(program)], cwd=work,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, preexec_fn=lambda: _limit(limits, drop, os.fsencode(work),
                                                              mounts),
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
