"""Licences: read them from package metadata or a licence file; keep the permissive ones.

A licence expression is permissive when every ``AND`` term is, and an ``OR`` choice when
any alternative is. Free-text licence fields and trove classifiers are matched by name.
"""

from __future__ import annotations

import re
from pathlib import Path

PERMISSIVE = (
    ("0BSD", r"\b0BSD\b"),
    ("MIT", r"\bMIT\b|MIT[- ]CMU|\bExpat\b"),
    ("BSD", r"\bBSD\b"),
    ("Apache-2.0", r"\bApache\b"),
    ("PSF-2.0", r"\bPSF\b|Python Software Foundation|\bPython-2\.0\b|CNRI-Python"),
    ("ISC", r"\bISC\b"),
    ("Zlib", r"\bZlib\b"),
    ("CC0-1.0", r"\bCC0\b"),
    ("Unlicense", r"\bUnlicense\b"),
    ("BSL-1.0", r"\bBSL-1\.0\b|Boost Software"),
    ("HPND", r"\bHPND\b|Historical Permission"),
)
COPYLEFT = r"\b(A?GPL|LGPL|MPL|EUPL|CDDL|EPL|OSL|SSPL)\b|General Public|Mozilla"
EXPRESSION_TERM = re.compile(r"^[A-Za-z0-9.+-]+( WITH [A-Za-z0-9.+-]+)?$")
LICENCE_FILES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "COPYING", "LICENSE.rst")


def name_of(text: str) -> str | None:
    """The permissive licence ``text`` names, or None (copyleft, unknown or empty)."""
    if not text or re.search(COPYLEFT, text, re.IGNORECASE):
        return None
    for name, pattern in PERMISSIVE:
        if re.search(pattern, text, re.IGNORECASE if name != "MIT" else 0):
            return name
    return None


def expression_permissive(expression: str) -> bool:
    """SPDX-style: ``A AND (B OR C)``; parentheses are flattened conservatively."""
    flat = expression.replace("(", " ").replace(")", " ")
    for conjunct in re.split(r"\s+AND\s+", flat.strip()):
        choices = [c.strip() for c in re.split(r"\s+OR\s+", conjunct) if c.strip()]
        if not any(name_of(choice.split(" WITH ")[0]) for choice in choices):
            return False
    return True


def from_metadata(metadata) -> str | None:
    """The permissive licence of an installed distribution, or None."""
    expression = metadata.get("License-Expression")
    if expression:
        return expression if expression_permissive(expression) else None
    field = (metadata.get("License") or "").strip()
    first_line = field.splitlines()[0] if field else ""
    if first_line and EXPRESSION_TERM.match(first_line.replace(" ", "-")):
        found = name_of(first_line)
        if found or re.search(COPYLEFT, first_line, re.IGNORECASE):
            return found
    classifiers = [c for c in metadata.get_all("Classifier") or [] if c.startswith("License")]
    names = {name_of(c.split("::")[-1]) for c in classifiers}
    if classifiers and None not in names:
        return sorted(n for n in names if n)[0]
    return name_of(first_line) if first_line else None


def from_folder(folder: Path) -> str:
    """``folder``'s licence from its licence file: a permissive name, ``copyleft``, or
    ``unlicensed`` when there is no licence file."""
    for name in LICENCE_FILES:
        path = folder / name
        if path.is_file():
            head = path.read_text(encoding="utf-8", errors="replace")[:3000]
            if re.search(COPYLEFT, head, re.IGNORECASE):
                return "copyleft"
            return _licence_text_name(head) or "unknown"
    return "unlicensed"


def _licence_text_name(text: str) -> str | None:
    if "Permission is hereby granted, free of charge" in text:
        return "MIT"
    if "Redistribution and use in source and binary forms" in text:
        return "BSD"
    if "Apache License" in text:
        return "Apache-2.0"
    return name_of(text.splitlines()[0] if text.strip() else "")
