"""The language server: a factory builds it; each feature module registers itself."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from tenon import __version__
from tenon.bundle import BundleError
from tenon.context.collect import DefinitionIndex
from tenon.documents import DocumentStore
from tenon.inference.onnx_engine import OUT_OF_MEMORY, EngineError
from tenon.inference.runner import InferenceRunner, JobCancelled
from tenon.model import LoadedModel, load_model, resolve_bundle_path
from tenon.settings import Settings
from tenon.status import Notifier
from tenon.transport import StdinChunks, serve_stream

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerConfig:
    settings: Settings = field(default_factory=Settings)
    load_on_start: bool = True
    check_hashes: bool = True
    watch_bundle: bool = True


class TenonProtocol(LanguageServerProtocol):
    """Keeps documents in Tenon's own store (LSP line rules), not pygls's workspace, and
    never sends an answer computed for a document revision that is no longer current."""

    _server: TenonServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guards: dict[asyncio.Future, tuple[str, int, Any]] = {}

    def answer_for(self, uri: str, revision: int, result: Any, instead: Any) -> Any:
        """Return ``result`` from the running request handler; when the answer is written,
        if ``uri`` has moved past ``revision`` meanwhile, ``instead`` is sent."""
        task = asyncio.current_task()
        if task is not None:
            self._guards[task] = (uri, revision, instead)
        return result

    def _send_handler_result(self, future: Any, *, msg_id: Any) -> None:
        # pygls writes the answer one loop turn after the handler returned: a change read
        # in between must still make the answer empty
        guard = self._guards.pop(future, None)
        if guard is not None and not future.cancelled() and future.exception() is None:
            uri, revision, instead = guard
            if self._server.documents.revision(uri) != revision:
                log.info("request %s: the document changed before the answer went out", msg_id)
                future = _done(instead)
        super()._send_handler_result(future, msg_id=msg_id)

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):
        self._server.documents.open(params.text_document)
        yield from ()

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        try:
            self._server.documents.change(params)
        except LookupError:
            log.warning("change to a document that is not open: %s", params.text_document.uri)
        yield from ()

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams):
        self._server.documents.close(params.text_document.uri)
        yield from ()


class TenonServer(LanguageServer):
    def __init__(self, config: ServerConfig) -> None:
        super().__init__("tenon", __version__, protocol_cls=TenonProtocol, max_workers=4)
        self.config = config
        self.settings = config.settings
        self.documents = DocumentStore()
        self.definitions = DefinitionIndex()
        self.runner = InferenceRunner()
        self.notifier = Notifier(self)
        self.model: LoadedModel | None = None
        self._request_ids = itertools.count(1)
        self._tasks: set[asyncio.Task] = set()
        self._input: StdinChunks | None = None

    def schedule_reload(self) -> None:
        """Reload the model in the background."""
        self.start_task(self.reload_model())

    def start_task(self, coroutine) -> asyncio.Task:
        """Run a background coroutine, keeping a reference until it finishes."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def next_request_id(self) -> int:
        return next(self._request_ids)

    async def reload_model(self) -> bool:
        """Load the bundle the settings name; on failure keep serving the previous one."""
        path = resolve_bundle_path(self.settings)
        self.notifier.set_status("loading", f"loading {path}")
        settings = self.settings
        try:
            loaded = await self.runner.run(
                "__model__", lambda _token: load_model(settings, self.config.check_hashes)
            )
        except (BundleError, EngineError) as exc:
            return self._load_failed(str(exc))
        except JobCancelled:  # a newer reload (settings changed again) took its place
            log.info("model load for %s superseded by a newer one", path)
            return False
        except asyncio.CancelledError:
            raise
        except MemoryError:
            return self._load_failed(OUT_OF_MEMORY)
        except Exception as exc:  # a model that fails must never take the server down
            log.exception("model load failed")
            return self._load_failed(f"unexpected error loading the model: {exc}")
        previous, self.model = self.model, loaded
        if previous is not None:
            previous.engine.close()
        described = loaded.describe()
        log.info("model ready: %s", described)
        self.notifier.set_status("ready", f"{described['name']} on {described['providerNote']}",
                                 model=described)
        return True

    def _load_failed(self, message: str) -> bool:
        kept = self.model is not None
        suffix = " The previous model keeps serving." if kept else ""
        self.notifier.show(f"model not loaded: {message}{suffix}", types.MessageType.Error)
        state = "ready" if kept else "error"
        self.notifier.set_status(state, f"model not loaded: {message}{suffix}")
        return False

    def shutdown(self) -> None:
        self.runner.shutdown()
        super().shutdown()

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve stdio with Tenon's reader (see tenon.transport), not pygls's."""
        self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))

        async def serve() -> None:
            self._input = StdinChunks(stdin or sys.stdin.buffer)
            await serve_stream(self._stop_event, self._input.read, self.protocol)

        try:
            asyncio.run(serve())
        except BrokenPipeError:
            log.error("the client closed the connection; shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def start_tcp(self, host: str, port: int) -> None:
        """Serve one client at a time on TCP with Tenon's reader."""
        self._stop_event = stop = threading.Event()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
            log.info("client connected")
            self.protocol.set_writer(writer)  # type: ignore[arg-type]
            await serve_stream(stop, lambda: reader.read(65536), self.protocol)
            log.info("client disconnected")

        async def serve() -> None:
            server = await asyncio.start_server(connection, host, port)
            log.info("serving LSP on %s", ", ".join(str(s.getsockname()) for s in server.sockets))
            async with server:
                await server.serve_forever()

        try:
            asyncio.run(serve())
        except (KeyboardInterrupt, SystemExit, asyncio.CancelledError):
            pass
        finally:
            self.shutdown()

    def stop_reading(self) -> None:
        """The client is gone: cancel work and stop as if stdin had closed (thread-safe)."""
        self.runner.cancel_all("the client is gone")
        if self._input is not None:
            self._input.close()


def _done(result: Any) -> asyncio.Future:
    future: asyncio.Future = asyncio.get_running_loop().create_future()
    future.set_result(result)
    return future


def build_server(config: ServerConfig | None = None) -> TenonServer:
    from tenon.features import register_all

    server = TenonServer(config or ServerConfig())
    register_all(server)
    return server
