"""The LSP byte stream, read so that no client input can wedge or crash the server.

pygls 2.1's reader trusts its input: it recognises ``Content-Length`` only as a whole header
line, so one frame with a wrong length desynchronises the stream for good; a huge length
makes it wait forever for a body; a header line without a newline grows without bound; and
a request whose params do not fit its type, or that is not JSON-RPC 2.0, gets no answer at
all. Here:

- :class:`FrameParser` (pure, no I/O) finds ``Content-Length`` even after garbage on the same
  line, ignores other headers, skips over-long lines and refuses bodies over ``MAX_BODY``,
  so after any damage it resynchronises at the next intact header. A body that claims more
  bytes than it has is cut where the next header starts: ``Content-Length: N`` followed by
  a raw line break can never occur inside JSON (raw line breaks are not allowed in JSON
  strings, and ``C`` starts no JSON token), so a lying length costs one message, not the
  stream;
- :func:`dispatch` answers every request it can identify: a body that is not JSON gets a
  parse error, a malformed envelope an invalid-request error, params of the wrong shape an
  invalid-params error carrying the request's id; everything else goes to pygls;
- :func:`serve_stream` runs the loop over any source of byte chunks (stdio or TCP).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidRequest,
    JsonRpcParseError,
)

log = logging.getLogger(__name__)

MAX_BODY = 128 * 1024 * 1024  # a 10 MB document, even fully \\u-escaped, fits
MAX_HEADER_LINE = 64 * 1024
KEEP_TAIL = 64  # bytes kept when an over-long line is skipped (a header may straddle)
CHUNK = 64 * 1024
CONTENT_LENGTH = re.compile(rb"content-length:[ \t]*(\d{1,15})[ \t]*$", re.IGNORECASE)
HEADER_IN_BODY = re.compile(rb"content-length:[ \t]*\d{1,15}[ \t]*\r?\n", re.IGNORECASE)
HEADER_AT_END = re.compile(rb"content-length:[ \t]*\d{0,15}[ \t]*\r?$", re.IGNORECASE)
HEADER_NAME = b"content-length:"
HEADER = re.compile(rb"^[A-Za-z0-9-]+:[^\r\n]*$")

ReadChunk = Callable[[], Awaitable[bytes]]


@dataclass
class FrameStats:
    frames: int = 0
    skipped_lines: int = 0  # header lines that were not headers (garbage)
    skipped_bytes: int = 0  # bytes of over-long lines thrown away
    oversized: int = 0  # Content-Length values over MAX_BODY, ignored
    cut: int = 0  # bodies cut short because the next header came first


class FrameParser:
    """Splits a byte stream into message bodies by their ``Content-Length`` headers."""

    def __init__(self, max_body: int = MAX_BODY, max_line: int = MAX_HEADER_LINE) -> None:
        self._buffer = bytearray()
        self._length: int | None = None  # from the headers of the frame being read
        self._body: int | None = None  # body bytes awaited, once the headers ended
        self._scanned = 0  # body bytes already searched for a header
        self._max_body = max_body
        self._max_line = max_line
        self.stats = FrameStats()

    def feed(self, data: bytes) -> list[bytes]:
        """Add ``data``; return the bodies it completes, in order."""
        self._buffer += data
        bodies: list[bytes] = []
        while True:
            if self._body is not None:
                size = self._body_size()
                if size is None:
                    break
                bodies.append(bytes(self._buffer[:size]))
                del self._buffer[:size]
                self._body = None
                self.stats.frames += 1
                continue
            end = self._buffer.find(b"\n")
            if end == -1:
                self._skip_overlong()
                break
            line = bytes(self._buffer[: end + 1])
            del self._buffer[: end + 1]
            self._header(line.rstrip(b"\r\n"))
        return bodies

    def _body_size(self) -> int | None:
        """Bytes of the body now complete (cut at a header inside it), None to wait."""
        assert self._body is not None
        end = min(len(self._buffer), self._body)
        found = HEADER_IN_BODY.search(self._buffer, max(0, self._scanned - KEEP_TAIL), end)
        if found is not None:
            self.stats.cut += 1
            log.warning("a message shorter than its Content-Length (%d bytes of %d)",
                        found.start(), self._body)
            return found.start()
        self._scanned = end
        if end < self._body:
            return None
        start = _header_starting_at_end(bytes(self._buffer[max(0, end - KEEP_TAIL) : end]))
        if start is not None:  # a JSON object never ends like a header's beginning does
            self.stats.cut += 1
            return max(0, end - KEEP_TAIL) + start
        return end

    def _skip_overlong(self) -> None:
        if len(self._buffer) > self._max_line:
            drop = len(self._buffer) - KEEP_TAIL
            del self._buffer[:drop]
            self.stats.skipped_bytes += drop
            self._length = None

    def _header(self, line: bytes) -> None:
        if not line.strip():
            if self._length is not None:
                self._body, self._length, self._scanned = self._length, None, 0
            return
        match = CONTENT_LENGTH.search(line)
        if match is None:
            if not HEADER.match(line):
                self.stats.skipped_lines += 1
            return
        if match.start() > 0:
            self.stats.skipped_lines += 1  # garbage before the header: resynchronised
        length = int(match.group(1))
        if length > self._max_body:
            self.stats.oversized += 1
            log.warning("ignored a message of %d bytes (the limit is %d)", length,
                        self._max_body)
            self._length = None
            return
        self._length = length


def _header_starting_at_end(tail: bytes) -> int | None:
    """Where a ``Content-Length`` header that runs past the end of ``tail`` starts."""
    found = HEADER_AT_END.search(tail)
    if found is not None:
        return found.start()
    lower = tail.lower()
    for size in range(min(len(lower), len(HEADER_NAME) - 1), 0, -1):
        if HEADER_NAME.startswith(lower[-size:]):
            return len(tail) - size
    return None


def _error(protocol: Any, msg_id: Any, exc: JsonRpcException) -> None:
    """Send an error response; ``msg_id`` None is sent as JSON null, as JSON-RPC asks."""
    error = {"code": exc.code, "message": exc.message}
    protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "error": error})


def _valid_id(value: Any) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def dispatch(protocol: Any, body: bytes) -> None:
    """Handle one message body; every request that can be identified gets an answer."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, or nested too deep
        log.warning("a message that is not JSON (%s)", type(exc).__name__)
        _error(protocol, None, JsonRpcParseError())
        return
    if not isinstance(data, dict) or data.get("jsonrpc") != "2.0":
        log.warning("a message that is not a JSON-RPC 2.0 object")
        _error(protocol, _id_of(data), JsonRpcInvalidRequest())
        return
    method, has_id = data.get("method"), "id" in data
    if method is not None and not isinstance(method, str):
        _error(protocol, _id_of(data), JsonRpcInvalidRequest())
        return
    if (has_id and not _valid_id(data["id"])) or (not has_id and method is None):
        log.warning("a message with neither a valid id nor a method")
        _error(protocol, None, JsonRpcInvalidRequest())
        return
    if method is not None and has_id and protocol._shutdown:
        _error(protocol, data["id"], JsonRpcInvalidRequest("the server is shutting down"))
        return
    if method is not None and "params" not in data:  # JSON-RPC lets a request omit params
        data = {**data, "params": None}
    try:
        message = protocol.structure_message(data)
    except JsonRpcException as exc:
        _refused(protocol, data, exc)
        return
    try:
        protocol.handle_message(message)
    except (SystemExit, KeyboardInterrupt):
        raise
    except Exception as exc:  # pygls answers handler errors itself; this is a last resort
        log.exception("message %r not handled", method)
        if method is not None and has_id:
            _error(protocol, data["id"], JsonRpcInternalError(str(exc)))


def _id_of(data: Any) -> Any:
    msg_id = data.get("id") if isinstance(data, dict) else None
    return msg_id if _valid_id(msg_id) else None


def _refused(protocol: Any, data: dict[str, Any], exc: JsonRpcException) -> None:
    """The message did not fit its type: answer a request, fail a pending response."""
    method = data.get("method")
    log.warning("a message that does not fit its type: %s (%s)", method or "response",
                type(exc).__name__)
    if method is not None:
        if "id" in data:
            _error(protocol, data["id"], exc)
        return
    # a malformed response to one of our requests: fail it rather than wait for ever
    future = protocol._request_futures.pop(data["id"], None)
    if future is not None and not future.done():
        future.set_exception(exc)


async def serve_stream(stop: threading.Event, read: ReadChunk, protocol: Any) -> None:
    """Read chunks until end of stream (or ``stop``), handling every complete message."""
    parser = FrameParser()
    while not stop.is_set():
        chunk = await read()
        if not chunk:
            break
        for body in parser.feed(chunk):
            dispatch(protocol, body)
            # let a request handler just started take its snapshot of the document before
            # the next message (often a change to that document) is applied
            await asyncio.sleep(0)
            if stop.is_set():
                break
    stats = parser.stats
    log.info("input closed: %d messages, %d garbage lines, %d bytes skipped, %d oversized",
             stats.frames, stats.skipped_lines, stats.skipped_bytes, stats.oversized)


class StdinChunks:
    """Reads stdin on a daemon thread (never blocks exit), at most a few chunks ahead."""

    def __init__(self, stdin: BinaryIO, depth: int = 16) -> None:
        self._stdin = stdin
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(depth)
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._pump, name="tenon-stdin", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        # the file descriptor, not the buffered stdin: a daemon thread blocked inside
        # BufferedReader holds its lock, and interpreter exit then aborts (SIGABRT)
        try:
            fd: int | None = self._stdin.fileno()
        except (OSError, ValueError, AttributeError):
            fd = None
        while True:
            try:
                chunk = os.read(fd, CHUNK) if fd is not None else self._stdin.read1(CHUNK)
            except (OSError, ValueError):
                chunk = b""
            if not self._put(chunk) or not chunk:
                return

    def _put(self, chunk: bytes) -> bool:
        try:
            asyncio.run_coroutine_threadsafe(self._queue.put(chunk), self._loop).result()
        except (RuntimeError, asyncio.CancelledError):  # the loop has closed
            return False
        return True

    def close(self) -> None:
        """End the stream as if stdin had closed (thread-safe; the editor went away)."""
        asyncio.run_coroutine_threadsafe(self._queue.put(b""), self._loop)

    async def read(self) -> bytes:
        return await self._queue.get()
