"""The completion pipeline: snapshot → context → prompt → generation → post-processing.

Everything here is a plain function of its arguments; the LSP handlers call
:func:`complete` on the inference thread and turn the result into LSP types.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from tenon.context import classify as modes
from tenon.context.classify import CursorContext, classify
from tenon.context.prompt import Budgets, BuiltPrompt, build_prompt
from tenon.context.snapshot import Snapshot
from tenon.inference.engine import CancelToken, GenerationResult, SamplingParams
from tenon.inference.healing import ForcedPrefix, back_off
from tenon.model import LoadedModel
from tenon.postprocess import finish
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


def max_tokens_for(mode: str, settings: Settings) -> int:
    limits = settings.max_tokens
    if mode == modes.LINE:
        return limits.line
    return limits.body if mode == modes.DOCSTRING_BODY else limits.block


def budgets_of(settings: Settings) -> Budgets:
    return Budgets(settings.prefix_tokens, settings.suffix_tokens, settings.context_tokens)


def make_prompt(
    ctx: CursorContext, settings: Settings, model: LoadedModel,
    context: tuple[ContextSnippet, ...] = (),
) -> BuiltPrompt:
    fim = model.bundle.manifest.vocabulary.fim
    return build_prompt(ctx.prefix, ctx.suffix, budgets_of(settings), model.codec.count,
                        fim.tokens() if fim else None, context)


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


def complete(
    snapshot: Snapshot,
    settings: Settings,
    model: LoadedModel,
    cancel: CancelToken,
    context: tuple[ContextSnippet, ...] = (),
) -> Completion:
    """Compute the completion at the snapshot's cursor."""
    started = time.perf_counter()
    ctx = classify(snapshot)
    policy = policy_for(ctx)
    prompt, typed = model.anchors.prompt_for(  # typing at the cursor keeps the FIM prompt
        snapshot, ctx.mode, (budgets_of(settings), context),
        lambda: make_prompt(ctx, settings, model, context))
    ids, forced = healed(model.codec.encode(prompt.text + typed), prompt, model, typed)
    prepared = time.perf_counter()
    params = SamplingParams(max_tokens_for(ctx.mode, settings), settings.temperature,
                            settings.top_p)
    result, text = generate_text(model, ids, forced, params, policy, cancel)
    if result.finish_reason == "cancelled":
        return Completion("", ctx.mode, "cancelled", result)
    done = finish(text, ctx, policy, python=snapshot.language_id == "python")
    timings = {
        "contextMs": (prepared - started) * 1000,
        "promptMs": result.prompt_ms,
        "decodeMs": result.decode_ms,
        "totalMs": (time.perf_counter() - started) * 1000,
    }
    return Completion(done.text, ctx.mode, done.reason, result, timings)
