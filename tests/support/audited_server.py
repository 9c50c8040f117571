"""``tenon serve`` under an audit hook: network use is refused and recorded, and so is any
execution of generated code in the server process itself.

    python tests/support/audited_server.py RECORD MARKER [tenon serve arguments...]

RECORD gets one JSON line per event: ``network`` (a socket that is not AF_UNIX, a connect,
bind or name lookup: refused), ``executed`` / ``imported`` (a code object or module that
holds MARKER, the name of the function whose body is generated), and ``spawned`` (every
process started: only the sandbox may run generated code). The hook is Python's own
``sys.addaudithook``; it is not Tenon code, and Tenon cannot remove it.
"""

from __future__ import annotations

import json
import os
import socket
import sys

RECORD, MARKER = sys.argv[1], sys.argv[2]
NETWORK = {"socket.connect", "socket.bind", "socket.getaddrinfo", "socket.gethostbyname",
           "socket.gethostbyaddr", "socket.getnameinfo", "socket.sendto", "socket.sendmsg",
           "http.client.connect", "urllib.Request", "ftplib.connect", "smtplib.connect"}


def record(kind: str, detail: object) -> None:
    with open(RECORD, "a", encoding="utf-8") as out:
        out.write(json.dumps({"kind": kind, "detail": repr(detail)[:500]}) + "\n")


def holds_marker(code) -> bool:
    if MARKER in code.co_names or MARKER in code.co_name:
        return True
    return any((hasattr(c, "co_code") and holds_marker(c)) or
               (isinstance(c, str) and MARKER in c) for c in code.co_consts)


def unix_address(address: object) -> bool:
    return isinstance(address, (str, bytes))  # AF_UNIX addresses are paths


def hook(event: str, args: tuple) -> None:
    if event == "socket.__new__" and args[1] != socket.AF_UNIX:
        record("network", (event, args[1:]))
        raise PermissionError("network access refused by the test")
    if event in NETWORK and not (len(args) > 1 and unix_address(args[1])):
        record("network", (event, args[1:]))
        raise PermissionError("network access refused by the test")
    if event == "exec" and hasattr(args[0], "co_code") and holds_marker(args[0]):
        record("executed", args[0].co_name)
    if event == "import" and MARKER in str(args[0]):
        record("imported", args[0])
    if event in ("subprocess.Popen", "os.posix_spawn", "os.system", "os.exec"):
        record("spawned", (event, args[:2]))


sys.addaudithook(hook)
os.environ.pop("ORT_DISABLE_TELEMETRY", None)  # the server must switch it off itself
from tenon.cli import main  # noqa: E402

sys.exit(main(["serve", *sys.argv[3:]]))
