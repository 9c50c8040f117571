"""The VS Code extension's settings (its package.json) against the server's."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tenon.settings import DEVICES, LOG_LEVELS, Settings, parse_settings, to_client

MANIFEST = Path(__file__).resolve().parents[2] / "vscode-client" / "package.json"
CLIENT_ONLY = {"languages", "interpreterPath", "debounceDelay", "completionList", "trace.server"}


def flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def declared() -> dict[str, dict[str, Any]]:
    properties = json.loads(MANIFEST.read_text())["contributes"]["configuration"]["properties"]
    return {key.removeprefix("tenon."): spec for key, spec in properties.items()}


def test_package_json_defaults_are_the_servers():
    server = flatten(to_client(Settings()))
    properties = declared()
    assert {key: properties[key]["default"] for key in server if key in properties} == server
    assert set(properties) - set(server) == CLIENT_ONLY


def test_package_json_types_and_choices_match():
    properties = declared()
    for key, default in flatten(to_client(Settings())).items():
        kind = {bool: "boolean", int: "integer", float: "number", str: "string"}[type(default)]
        assert properties[key]["type"] == kind, key
    assert properties["device"]["enum"] == list(DEVICES)
    assert properties["logLevel"]["enum"] == list(LOG_LEVELS)


def test_the_defaults_the_extension_sends_are_accepted_without_complaint():
    server_keys = flatten(to_client(Settings()))
    sent: dict[str, Any] = {}
    for key, spec in declared().items():
        if key in server_keys:
            head, _, tail = key.partition(".")
            if tail:
                sent.setdefault(head, {})[tail] = spec["default"]
            else:
                sent[head] = spec["default"]
    assert parse_settings(sent) == (Settings(), [])


def test_readme_lists_every_extension_setting_with_its_default():
    readme = (MANIFEST.parents[1] / "README.md").read_text()
    rows = re.findall(r"^\| `tenon\.([\w.]+)` \| `([^`]*)` \|", readme, re.MULTILINE)
    assert [key for key, _ in rows] == list(declared())
    for key, default in rows:
        assert json.loads(default) == declared()[key]["default"], key
