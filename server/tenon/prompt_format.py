"""The one prompt format shared by training and serving.

Training renders its examples with :func:`render_prompt` and :func:`render_target`; the server
renders requests with :func:`render_prompt`. A bundle's manifest records the name and version
of the format the model was trained for, and the server refuses a bundle whose format it does
not speak, so a model is always served the way it was trained.

Version 1 (PSM fill-in-the-middle, Qwen2.5-Coder / StarCoder style)::

    <fim_prefix>{context}{prefix}<fim_suffix>{suffix}<fim_middle>{middle}<end>

and, when the model has no FIM tokens or there is nothing after the cursor::

    {context}{prefix}{middle}<end>

``context`` holds definitions from other files, each as ``# file: {path}`` followed by its
text and a blank line, so the model reads them as code it has seen before.
"""

from __future__ import annotations

from dataclasses import dataclass

PROMPT_FORMAT_NAME = "tenon-psm"
PROMPT_FORMAT_VERSION = 1
SUPPORTED_VERSIONS = (1,)


@dataclass(frozen=True)
class FimTokens:
    """The three FIM marker strings, each a single token of the model's vocabulary."""

    prefix: str
    suffix: str
    middle: str


@dataclass(frozen=True)
class ContextSnippet:
    """A definition from another file, offered to the model as extra context."""

    path: str
    text: str


@dataclass(frozen=True)
class PromptParts:
    """What a prompt is made of, already cut to the token budgets."""

    prefix: str
    suffix: str = ""
    context: tuple[ContextSnippet, ...] = ()


def render_context(snippets: tuple[ContextSnippet, ...]) -> str:
    """Render extra context as code headed by a ``# file:`` comment per snippet."""
    return "".join(f"# file: {s.path}\n{s.text.rstrip()}\n\n" for s in snippets)


def uses_fim(parts: PromptParts, fim: FimTokens | None) -> bool:
    """FIM when the model has the tokens and there is something after the cursor."""
    return fim is not None and parts.suffix.strip() != ""


def render_prompt(parts: PromptParts, fim: FimTokens | None) -> str:
    """Render the text the model continues from."""
    head = render_context(parts.context) + parts.prefix
    if uses_fim(parts, fim):
        assert fim is not None
        return f"{fim.prefix}{head}{fim.suffix}{parts.suffix}{fim.middle}"
    return head


def render_target(middle: str, end_token: str) -> str:
    """Render what the model should produce after the prompt (training only)."""
    return f"{middle}{end_token}"
