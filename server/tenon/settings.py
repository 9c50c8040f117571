"""Typed settings with defaults, read from the client's camelCase JSON once per change.

The VS Code extension's ``package.json`` declares the same settings with the same defaults
(a test keeps them equal). Unknown keys and bad values are reported once and the previous
value is kept, so one typo never disables the server.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

DEVICES = ("auto", "cuda", "cpu")
LOG_LEVELS = ("error", "warning", "info", "debug", "trace")
RELOAD_FIELDS = frozenset({"bundle_path", "device", "threads"})
MAX_INT = 2**31 - 1  # LSP's own integer range; more would only overflow somewhere below


@dataclass(frozen=True)
class MaxTokens:
    """Most tokens generated per mode: rest of a line, a block, a function body."""

    line: int = 48
    block: int = 128
    body: int = 256


@dataclass(frozen=True)
class Settings:
    enable: bool = True
    bundle_path: str = ""  # empty: the published default bundle
    device: str = "auto"
    threads: int = 0  # ONNX Runtime intra-op threads; 0: its default
    max_tokens: MaxTokens = field(default_factory=MaxTokens)
    temperature: float = 0.0
    top_p: float = 0.95
    prefix_tokens: int = 1024
    suffix_tokens: int = 256
    context_tokens: int = 256
    typing_prefix_tokens: int = 512  # budgets for plain code as it is typed (rest of a line,
    typing_suffix_tokens: int = 64  # next lines of a block): a shorter prompt answers sooner
    candidates: int = 4  # bodies tried when a docstring has examples
    draft_tokens: int = 4  # greedy: tokens guessed from the context, checked in one pass
    log_level: str = "info"


ZERO_OFF = frozenset({"context_tokens", "draft_tokens"})  # token counts where 0 means "none"


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check(name: str, value: Any, default: Any) -> str | None:
    """Why ``value`` is not acceptable for the setting, or None."""
    kind = type(default)
    if kind is bool and not isinstance(value, bool):
        return "should be true or false"
    if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        return "should be a whole number ≥ 0"
    if kind is int and value > MAX_INT:
        return f"should be at most {MAX_INT}"
    if kind is float and (isinstance(value, bool) or not isinstance(value, (int, float))
                          or not 0 <= value < float("inf")):  # NaN fails both
        return "should be a number ≥ 0"
    if kind is str and not isinstance(value, str):
        return "should be a string"
    if kind is str and ("\0" in value or (not value.isascii() and not _encodable(value))):
        return "should be text without NUL characters or lone surrogates"
    choices = {"device": DEVICES, "log_level": LOG_LEVELS}.get(name)
    if choices and value not in choices:
        return f"should be one of {', '.join(choices)}"
    if name == "top_p" and not 0 < value <= 1:
        return "should be in (0, 1]"
    if name.endswith("_tokens") and kind is int and value == 0 and name not in ZERO_OFF:
        return "should be at least 1"
    return None


def _merge(current: Any, raw: dict[str, Any], where: str, problems: list[str]) -> Any:
    changes: dict[str, Any] = {}
    fields = {f.name: f for f in dataclasses.fields(current)}
    for key, value in raw.items():
        name = snake(key)
        if name not in fields:
            problems.append(f"unknown setting `{where}{key}` (ignored)")
            continue
        default = getattr(current, name)
        if dataclasses.is_dataclass(default):
            if not isinstance(value, dict):
                problems.append(f"`{where}{key}` should be an object (kept {default})")
                continue
            changes[name] = _merge(default, value, f"{where}{key}.", problems)
            continue
        why = _check(name, value, default)
        if why:
            problems.append(f"`{where}{key}` {why} (kept {default!r})")
            continue
        changes[name] = float(value) if isinstance(default, float) else value
    return dataclasses.replace(current, **changes)


def parse_settings(raw: Any, current: Settings | None = None) -> tuple[Settings, list[str]]:
    """Apply the client's settings object to ``current``; return the result and problems."""
    current = current or Settings()
    if raw is None:
        return current, []
    if not isinstance(raw, dict):
        return current, [f"settings should be an object, got {type(raw).__name__}"]
    problems: list[str] = []
    return _merge(current, raw, "tenon.", problems), problems


def needs_reload(old: Settings, new: Settings) -> bool:
    """Model path, device and threads need the model reloaded; the rest applies at once."""
    return any(getattr(old, name) != getattr(new, name) for name in RELOAD_FIELDS)


def to_client(settings: Settings) -> dict[str, Any]:
    """Settings as the client spells them (camelCase), for docs and the defaults test."""

    def convert(obj: Any) -> Any:
        if dataclasses.is_dataclass(obj):
            return {camel(f.name): convert(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        return obj

    return convert(settings)
