"""The completion pipeline: snapshot → context → prompt → generation → post-processing.

Everything here is a plain function of its arguments; the LSP handlers call
:func:`complete` on the inference thread and turn the result into LSP types.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from tenon.context import classify as modes
from tenon.context.classify import CursorContext, classify
from tenon.context.collect import imports_of, short_path
from tenon.context.prompt import Budgets, BuiltPrompt, build_prompt
from tenon.context.snapshot import Snapshot
from tenon.inference.engine import CancelToken, GenerationResult, SamplingParams
from tenon.inference.healing import ForcedPrefix, back_off
from tenon.model import LoadedModel
from tenon.postprocess import Finished, finish
from tenon.prompt_format import ContextSnippet
from tenon.settings import Settings
from tenon.stop_rules import StopPolicy, cut_point, policy_for


@dataclass(frozen=True)
class Completion:
    text: str
    mode: str
    reason: str  # "ok", or why nothing (or less) is offered
    result: GenerationResult | None
    timings: dict[str, float] = field(default_factory=dict)


PROMPT_MARGIN = 32  # tokens the prompt format adds around the budgeted parts


def max_tokens_for(mode: str, settings: Settings) -> int:
    limits = settings.max_tokens
    if mode == modes.LINE:
        return limits.line
    return limits.body if mode == modes.DOCSTRING_BODY else limits.block


TYPING_MODES = (modes.LINE, modes.BLOCK)  # plain code as it is typed: latency first


def budgets_of(settings: Settings, mode: str) -> Budgets:
    """The prompt budgets for a mode. Plain code as it is typed (the rest of a line, the next
    lines of a block) has its own, smaller ones: the answer comes sooner, and both modes cut
    the prefix alike, so after Enter the new line's prompt starts as the line's did and the
    engine's cache covers it. Comments and docstrings, which ask for more, keep the larger."""
    if mode in TYPING_MODES:
        return Budgets(min(settings.typing_prefix_tokens, settings.prefix_tokens),
                       min(settings.typing_suffix_tokens, settings.suffix_tokens),
                       settings.context_tokens)
    return Budgets(settings.prefix_tokens, settings.suffix_tokens, settings.context_tokens)


def fitted(budgets: Budgets, max_positions: int, max_new: int) -> Budgets:
    """``budgets`` cut so that the prompt and the answer fit the model's context window
    (settings can ask for more than any model reads: a huge prefixTokens once meant
    tokenizing and prefilling a whole 10 MB document)."""
    room = max(16, max_positions - max_new - PROMPT_MARGIN)
    suffix = min(budgets.suffix_tokens, room // 4)
    context = min(budgets.context_tokens, room // 4)
    return Budgets(min(budgets.prefix_tokens, room - suffix - context), suffix, context)


def make_prompt(
    ctx: CursorContext, settings: Settings, model: LoadedModel,
    context: tuple[ContextSnippet, ...] = (), path: str = "this file", max_new: int = 0,
) -> BuiltPrompt:
    fim = model.bundle.manifest.vocabulary.fim
    imports = imports_of(ctx.prefix)
    header = ContextSnippet(path, imports) if imports else None
    budgets = fitted(budgets_of(settings, ctx.mode),
                     model.bundle.manifest.architecture.max_positions, max_new)
    return build_prompt(ctx.prefix, ctx.suffix, budgets, model.codec.count,
                        fim.tokens() if fim else None, context, header)


def stop_check(model: LoadedModel, policy: StopPolicy, skip: str = ""):
    """Stop as soon as a stop rule fires on the text generated after the cursor."""

    def check(ids) -> bool:
        text = model.codec.decode(ids)
        if not text.startswith(skip):
            return False
        return cut_point(text[len(skip) :], policy) is not None

    return check


def healed(
    ids: list[int], prompt: BuiltPrompt, model: LoadedModel, typed: str = ""
) -> tuple[list[int], str]:
    """Back off the last token of a plain prompt, or of the text typed after a FIM prompt
    (a FIM prompt itself ends in a marker token)."""
    if (prompt.fim and not typed) or not ids:
        return ids, ""
    texts = model.codec.token_texts().texts
    return back_off(ids, texts.__getitem__, set(model.codec.special_ids))


def generate_text(
    model: LoadedModel, ids: list[int], forced_text: str, params: SamplingParams,
    policy: StopPolicy, cancel: CancelToken,
) -> tuple[GenerationResult, str]:
    """Generate, healing the prompt's last token; return the result and the new text."""
    forced = ForcedPrefix(forced_text, model.codec.token_texts()) if forced_text else None
    result = model.engine.generate(ids, params, stop_check(model, policy, forced_text), cancel,
                                   forced)
    text = model.codec.decode(result.token_ids)
    return result, text[len(forced_text) :] if text.startswith(forced_text) else text


def _attempt(
    model: LoadedModel, prompt: BuiltPrompt, params: SamplingParams, ctx: CursorContext,
    policy: StopPolicy, cancel: CancelToken, python: bool, typed: str = "",
) -> tuple[GenerationResult, Finished]:
    ids, forced = healed(model.codec.encode(prompt.text + typed), prompt, model, typed)
    result, text = generate_text(model, ids, forced, params, policy, cancel)
    if result.finish_reason == "cancelled":
        return result, Finished("", "cancelled")
    return result, finish(text, ctx, policy, python=python)


def complete(
    snapshot: Snapshot,
    settings: Settings,
    model: LoadedModel,
    cancel: CancelToken,
    context: tuple[ContextSnippet, ...] = (),
    temperature: float | None = None,
    seed: int = 0,
) -> Completion:
    """Compute the completion at the snapshot's cursor (sampling per settings by default)."""
    started = time.perf_counter()
    ctx = classify(snapshot)
    policy = policy_for(ctx)
    window = model.bundle.manifest.architecture.max_positions
    params = SamplingParams(
        min(max_tokens_for(ctx.mode, settings), window // 2),
        settings.temperature if temperature is None else temperature,
        settings.top_p,
        seed,
        settings.draft_tokens,
    )
    prompt, typed = model.anchors.prompt_for(  # typing at the cursor keeps the FIM prompt
        snapshot, ctx.mode, (budgets_of(settings, ctx.mode), context, params.max_new_tokens),
        lambda: make_prompt(ctx, settings, model, context, short_path(snapshot.uri),
                            params.max_new_tokens))
    prepared = time.perf_counter()
    python = snapshot.language_id == "python"
    result, done = _attempt(model, prompt, params, ctx, policy, cancel, python, typed)
    if prompt.fim and not done.text and ctx.mode != modes.LINE and not cancel.cancelled:
        # the model saw nothing to put in the middle: ask again without the suffix
        plain = make_prompt(replace(ctx, suffix=""), settings, model, context,
                            short_path(snapshot.uri), params.max_new_tokens)
        result, done = _attempt(model, plain, params, ctx, policy, cancel, python)
    if result.finish_reason == "cancelled":
        return Completion("", ctx.mode, "cancelled", result)
    timings = {
        "contextMs": (prepared - started) * 1000,
        "promptMs": result.prompt_ms,
        "decodeMs": result.decode_ms,
        "totalMs": (time.perf_counter() - started) * 1000,
    }
    return Completion(done.text, ctx.mode, done.reason, result, timings)
