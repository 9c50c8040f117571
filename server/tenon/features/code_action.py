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

from tenon.context.positions import LineIndex, PositionError
from tenon.docstring_body import BodyResult, generate_body, plan_body
from tenon.documents import Document, UnknownDocument
from tenon.features.common import context_for
from tenon.features.progress import WorkProgress
from tenon.inference.onnx_engine import EngineError
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
        offset = LineIndex.of(doc.text).offset(start.line, start.character, ls.documents.encoding)
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


async def generate(ls: TenonServer, target: Target) -> tuple[types.WorkspaceEdit, BodyResult]:
    doc = _current(ls, target)
    try:
        offset = LineIndex.of(doc.text).offset(target.line, target.character,
                                               ls.documents.encoding)
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
        progress.final_message = result.summary()
    if result.chosen is None:
        raise ActionFailed("the model did not write a usable body")
    _current(ls, target)  # the document must not have moved on while we worked
    return _edit(ls, doc, plan.stub.replace_start, plan.stub.replace_end,
                 plan.new_text(result.chosen.body)), result


def _edit(ls: TenonServer, doc: Document, start: int, end: int, text: str) -> types.WorkspaceEdit:
    index = LineIndex.of(doc.text)
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


def _target(data: Any) -> Target:
    get = data.get if isinstance(data, dict) else lambda k: getattr(data, k, None)
    return Target(str(get("uri")), int(get("line")), int(get("character")), get("version"))


def _command_target(args: Any) -> Target:
    if not isinstance(args, (list, tuple)) or len(args) < 2:
        raise ActionFailed("usage: tenon.generateFromDocstring(uri, {line, character}[, version])")
    position = args[1]
    get = position.get if isinstance(position, dict) else lambda k: getattr(position, k)
    version = args[2] if len(args) > 2 else None
    return Target(str(args[0]), int(get("line")), int(get("character")), version)


def register(server: TenonServer) -> None:
    options = types.CodeActionOptions(code_action_kinds=[KIND], resolve_provider=True)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)
    def code_action(ls: TenonServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return offer(ls, params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls: TenonServer, action: types.CodeAction) -> types.CodeAction:
        try:
            action.edit, result = await generate(ls, _target(action.data))
        except (ActionFailed, KeyError, TypeError, ValueError) as exc:
            ls.notifier.show(f"{TITLE}: {exc}")
            return action
        action.title = f"{TITLE}: {result.summary()}"
        ls.notifier.show(f"{TITLE}: {result.summary()}", types.MessageType.Info)
        return action

    @server.command(COMMAND)
    async def generate_command(ls: TenonServer, *args: Any) -> dict[str, Any]:
        try:
            target = _command_target(args[0] if len(args) == 1 and isinstance(
                args[0], (list, tuple)) else args)
            edit, result = await generate(ls, target)
        except (ActionFailed, KeyError, TypeError, ValueError) as exc:
            ls.notifier.show(f"{TITLE}: {exc}")
            return {"applied": False, "reason": str(exc)}
        applied = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=TITLE))
        ls.notifier.show(f"{TITLE}: {result.summary()}", types.MessageType.Info)
        return {"applied": bool(applied and applied.applied), "summary": result.summary()}
