"""“Generate from docstring”: a code action on stub functions.

``textDocument/codeAction`` only detects the stub (cheap). The body is generated in
``codeAction/resolve``; clients without resolve support get a command instead, and the
server applies the edit with ``workspace/applyEdit``. Either way the edit is computed for
the document version the action was offered on; if the document moved on meanwhile,
nothing is applied and the user is told.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from lsprotocol import types

from tenon.context.positions import PositionError
from tenon.docstring_body import BodyResult, generate_body, plan_body
from tenon.documents import Document, UnknownDocument
from tenon.features.common import context_for
from tenon.features.progress import WorkProgress
from tenon.inference.onnx_engine import OUT_OF_MEMORY, EngineError
from tenon.inference.runner import JobCancelled
from tenon.server import TenonServer  # at run time: pygls resolves command annotations

log = logging.getLogger(__name__)
TITLE = "Generate from docstring"
COMMAND = "tenon.generateFromDocstring"
KIND = types.CodeActionKind.RefactorRewrite


class ActionFailed(Exception):
    """Why no edit is offered; shown to the user once."""


@dataclass(frozen=True)
class Target:
    uri: str
    line: int
    character: int
    version: int | None


def supports_resolve(ls: TenonServer) -> bool:
    text = ls.client_capabilities.text_document
    action = text.code_action if text else None
    support = action.resolve_support if action else None
    return bool(support and "edit" in support.properties)


def offer(ls: TenonServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri, start = params.text_document.uri, params.range.start
    try:
        doc = ls.documents.get(uri)
        offset = doc.index.offset(start.line, start.character, ls.documents.encoding)
    except (UnknownDocument, PositionError):
        return []
    plan = plan_body(doc.text, offset)
    if plan is None:
        return []
    examples = len(plan.stub.examples)
    title = TITLE + (f" (checks {examples} doctest examples)" if examples else "")
    data = {"uri": uri, "line": start.line, "character": start.character, "version": doc.version}
    if supports_resolve(ls):
        return [types.CodeAction(title=title, kind=KIND, data=data)]
    command = types.Command(title, COMMAND, [uri, {"line": start.line,
                                                    "character": start.character}, doc.version])
    return [types.CodeAction(title=title, kind=KIND, command=command)]


def _current(ls: TenonServer, target: Target) -> Document:
    try:
        doc = ls.documents.get(target.uri)
    except UnknownDocument as exc:
        raise ActionFailed("the document is no longer open") from exc
    if target.version is not None and doc.version != target.version:
        raise ActionFailed("the document changed since the action was offered; nothing applied")
    return doc


async def generate(
    ls: TenonServer, target: Target
) -> tuple[types.WorkspaceEdit, BodyResult, Document]:
    doc = _current(ls, target)
    try:
        offset = doc.index.offset(target.line, target.character, ls.documents.encoding)
    except PositionError as exc:
        raise ActionFailed(str(exc)) from exc
    plan = plan_body(doc.text, offset)
    if plan is None:
        raise ActionFailed("no function with a docstring and a stub body here")
    settings = ls.settings
    async with WorkProgress(ls, "Tenon: generating from docstring") as progress:

        def job(token):
            if ls.model is None:
                raise EngineError("no model is loaded")
            context = context_for(ls, plan.snapshot(doc.uri, doc.version))
            return generate_body(plan, doc.uri, doc.version, settings, ls.model, token,
                                 progress.report, context)

        try:
            result = await ls.runner.run(f"{doc.uri}#generate", job)
        except (JobCancelled, EngineError) as exc:
            raise ActionFailed(str(exc)) from exc
        except MemoryError as exc:
            raise ActionFailed(OUT_OF_MEMORY) from exc
        except Exception as exc:  # a bug must cost this action, never the server
            log.exception("generate from docstring: unexpected error")
            raise ActionFailed(f"unexpected error ({type(exc).__name__}); see the log") from exc
        progress.final_message = result.summary()
    if result.chosen is None:
        raise ActionFailed("the model did not write a usable body")
    if ls.documents.revision(doc.uri) != doc.revision:  # it moved on while we worked
        raise ActionFailed("the document changed since the action was offered; nothing applied")
    return _edit(ls, doc, plan.stub.replace_start, plan.stub.replace_end,
                 plan.new_text(result.chosen.body)), result, doc


def _edit(ls: TenonServer, doc: Document, start: int, end: int, text: str) -> types.WorkspaceEdit:
    index = doc.index
    encoding = ls.documents.encoding
    edit = types.TextEdit(types.Range(types.Position(*index.position(start, encoding)),
                                      types.Position(*index.position(end, encoding))), text)
    workspace = ls.client_capabilities.workspace
    versioned = bool(workspace and workspace.workspace_edit
                     and workspace.workspace_edit.document_changes)
    if versioned:
        ident = types.OptionalVersionedTextDocumentIdentifier(doc.uri, doc.version)
        return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(ident, [edit])])
    return types.WorkspaceEdit(changes={doc.uri: [edit]})


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ActionFailed(f"the {what} should be a whole number")
    return value


def _make_target(uri: Any, position: Any, version: Any) -> Target:
    if not isinstance(uri, str):
        raise ActionFailed("the action does not name a document")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise ActionFailed("the document version should be a whole number")
    line = _int(_field(position, "line"), "line")
    character = _int(_field(position, "character"), "character")
    return Target(uri, line, character, version)


def _target(data: Any) -> Target:
    """The target recorded in a code action's ``data`` (which the client may have mangled)."""
    return _make_target(_field(data, "uri"), data, _field(data, "version"))


def _command_target(args: Any) -> Target:
    if not isinstance(args, (list, tuple)) or len(args) < 2:
        raise ActionFailed("usage: tenon.generateFromDocstring(uri, {line, character}[, version])")
    return _make_target(args[0], args[1], args[2] if len(args) > 2 else None)


def register(server: TenonServer) -> None:
    options = types.CodeActionOptions(code_action_kinds=[KIND], resolve_provider=True)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)
    def code_action(ls: TenonServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return offer(ls, params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls: TenonServer, action: types.CodeAction) -> types.CodeAction:
        try:
            edit, result, doc = await generate(ls, _target(action.data))
        except ActionFailed as exc:
            ls.notifier.show(f"{TITLE}: {exc}")
            return action
        unchanged = types.CodeAction(title=action.title, kind=action.kind, data=action.data)
        action.edit, action.title = edit, f"{TITLE}: {result.summary()}"
        ls.notifier.show(f"{TITLE}: {result.summary()}", types.MessageType.Info)
        return ls.protocol.answer_for(doc.uri, doc.revision, action, unchanged)

    @server.command(COMMAND)
    async def generate_command(ls: TenonServer, *args: Any) -> dict[str, Any]:
        try:
            target = _command_target(args[0] if len(args) == 1 and isinstance(
                args[0], (list, tuple)) else args)
            edit, result, _doc = await generate(ls, target)
        except ActionFailed as exc:
            ls.notifier.show(f"{TITLE}: {exc}")
            return {"applied": False, "reason": str(exc)}
        applied = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=TITLE))
        ls.notifier.show(f"{TITLE}: {result.summary()}", types.MessageType.Info)
        return {"applied": bool(applied and applied.applied), "summary": result.summary()}
