"""What the completion features share: snapshot, run on the inference thread, log."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from tenon.bundle import BundleError
from tenon.completion import Completion, complete
from tenon.context.collect import SourceDoc, collect_context
from tenon.context.positions import PositionError, units
from tenon.context.snapshot import Snapshot
from tenon.documents import UnknownDocument
from tenon.inference.onnx_engine import OUT_OF_MEMORY, EngineError
from tenon.inference.runner import JobCancelled
from tenon.logs import document_text_allowed
from tenon.prompt_format import ContextSnippet

if TYPE_CHECKING:
    from tenon.server import TenonServer

log = logging.getLogger(__name__)
CONTEXT_DOC_LIMIT = 1_000_000  # larger open documents are not parsed for context (seconds each)


def context_for(ls: TenonServer, snapshot: Snapshot) -> tuple[ContextSnippet, ...]:
    """Definitions from the other open Python documents that the cursor's code uses."""
    others = []
    for uri in ls.documents.uris():
        if uri == snapshot.uri:
            continue
        with contextlib.suppress(UnknownDocument):
            doc = ls.documents.get(uri)
            if doc.language_id == "python" and len(doc.text) <= CONTEXT_DOC_LIMIT:
                # keyed by the server's revision: a client's version numbers can repeat
                others.append(SourceDoc(doc.uri, doc.revision, doc.text))
    return collect_context(snapshot.prefix, snapshot.text, others, ls.definitions)


def line_prefix(snapshot: Snapshot) -> str:
    """The cursor line up to the cursor (LSP lines end at LF, CRLF or CR)."""
    prefix = snapshot.prefix
    return prefix[max(prefix.rfind("\n"), prefix.rfind("\r")) + 1 :]


def cursor_position(ls: TenonServer, snapshot: Snapshot, line: int,
                    back: int = 0) -> types.Position:
    """The snapshot's cursor (less ``back`` characters) as a position in the negotiated
    encoding: a request past the end of its line, or inside a surrogate pair, is answered
    with the character boundary it was rounded to, never with its own position."""
    text = line_prefix(snapshot)
    return types.Position(line, units(text[: max(0, len(text) - back)], ls.documents.encoding))


def take_snapshot(ls: TenonServer, uri: str, position: types.Position) -> Snapshot | None:
    try:
        return ls.documents.snapshot(uri, position)
    except (UnknownDocument, PositionError) as exc:
        log.warning("no completion: %s", exc)
        return None


async def compute_completion(
    ls: TenonServer, uri: str, position: types.Position, kind: str
) -> tuple[Snapshot, Completion] | None:
    """The completion at ``position``, or None (disabled, no model, cancelled, stale, error)."""
    request_id = ls.next_request_id()
    if not ls.settings.enable:
        return None
    snapshot = take_snapshot(ls, uri, position)
    if snapshot is None:
        return None
    settings = ls.settings
    reused = offered_again(ls, snapshot, request_id, kind)
    if reused is not None:
        return snapshot, reused

    def job(token):
        model = ls.model
        if model is None:
            raise EngineError("no model is loaded")
        done = complete(snapshot, settings, model, token, context_for(ls, snapshot))
        model.recent.remember(snapshot, done.text, done.mode, settings)
        return done

    try:
        result = await ls.runner.run(uri, job)
    except JobCancelled as exc:
        log.info("#%d %s cancelled before start (%s)", request_id, kind, exc)
        return None
    except (EngineError, BundleError) as exc:
        return _failed(ls, request_id, kind, str(exc))
    except MemoryError:
        return _failed(ls, request_id, kind, OUT_OF_MEMORY)
    except Exception as exc:  # a bug must cost one completion, never the server
        log.exception("#%d %s: unexpected error (%s)", request_id, kind, type(exc).__name__)
        return _failed(ls, request_id, kind, f"unexpected error ({type(exc).__name__})")
    if result.result is not None and result.reason != "cancelled":
        ls.notifier.recovered("completions")
    return _checked(ls, snapshot, result, request_id, kind)


def _failed(ls: TenonServer, request_id: int, kind: str, why: str) -> None:
    log.warning("#%d %s failed: %s", request_id, kind, why)
    if ls.model is None:
        ls.notifier.set_status("error", why)
        return None
    ls.notifier.failed("completions", f"completion failed: {why}")
    return None


def offered_again(
    ls: TenonServer, snapshot: Snapshot, request_id: int, kind: str
) -> Completion | None:
    """The rest of a recent suggestion the user is typing through, without generating."""
    model = ls.model
    reuse = model.recent.lookup(snapshot, ls.settings) if model is not None else None
    if reuse is None:
        return None
    ls.runner.cancel(snapshot.uri, "superseded by a recent suggestion")
    log.info("#%d %s recent=hit mode=%s typed=%d chars=%d", request_id, kind, reuse.mode,
             len(reuse.typed), len(reuse.text))
    return Completion(reuse.text, reuse.mode, "recent", None)


def _checked(
    ls: TenonServer, snapshot: Snapshot, result: Completion, request_id: int, kind: str
) -> tuple[Snapshot, Completion] | None:
    stale = ls.documents.revision(snapshot.uri) != snapshot.revision
    gen = result.result
    log.info(
        "#%d %s mode=%s prompt_tokens=%s reused=%s prompt_ms=%.0f decode_ms=%.0f tokens_out=%s "
        "provider=%s finish=%s reason=%s stale=%s",
        request_id, kind, result.mode, gen.prompt_tokens if gen else 0,
        gen.reused_tokens if gen else 0, gen.prompt_ms if gen else 0,
        gen.decode_ms if gen else 0, len(gen.token_ids) if gen else 0,
        gen.provider if gen else "", gen.finish_reason if gen else "", result.reason, stale,
    )
    if document_text_allowed():
        log.log(5, "#%d completion text: %r", request_id, result.text)
    if gen is not None and result.reason != "cancelled":
        ls.notifier.status.last_latency_ms = round(result.timings.get("totalMs", 0.0))
        ls.notifier.publish()  # the client shows the last latency
    if stale or not result.text:
        return None
    return snapshot, result
