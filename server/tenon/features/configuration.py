"""Settings from initializationOptions and workspace/didChangeConfiguration."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from tenon.logs import set_level
from tenon.settings import needs_reload, parse_settings

if TYPE_CHECKING:
    from tenon.server import TenonServer

log = logging.getLogger(__name__)


def section_of(raw: Any) -> Any:
    """Accept ``{"tenon": {...}}`` or the section itself."""
    if isinstance(raw, dict) and isinstance(raw.get("tenon"), dict):
        return raw["tenon"]
    return raw


def apply_settings(ls: TenonServer, raw: Any, reload: bool = True) -> None:
    old = ls.settings
    new, problems = parse_settings(raw, old)
    if problems:
        ls.notifier.show("settings: " + "; ".join(problems))
    ls.settings = new
    set_level(new.log_level)
    if not reload:
        return
    if not new.enable:
        ls.notifier.set_status("disabled", "Tenon is disabled in the settings")
    elif needs_reload(old, new) or not old.enable or ls.model is None:
        ls.schedule_reload()


def register(server: TenonServer) -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def on_change(ls: TenonServer, params: types.DidChangeConfigurationParams) -> None:
        raw = section_of(params.settings)
        if raw is None:
            return
        log.info("configuration changed")
        apply_settings(ls, raw)
