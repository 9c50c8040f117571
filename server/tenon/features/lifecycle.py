"""initialize / initialized: read the client's options, then load the model."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.capabilities import ServerCapabilitiesBuilder

from tenon import parent
from tenon.features.configuration import apply_settings, section_of
from tenon.features.watch import watch

if TYPE_CHECKING:
    from tenon.server import TenonServer

log = logging.getLogger(__name__)
ENCODINGS = {"utf-8": "utf-8", "utf-16": "utf-16", "utf-32": "utf-32"}


def register(server: TenonServer) -> None:
    @server.feature(types.INITIALIZE)
    def on_initialize(ls: TenonServer, params: types.InitializeParams) -> None:
        client = params.client_info.name if params.client_info else "unknown client"
        log.info("initialize from %s", client)
        apply_settings(ls, section_of(params.initialization_options), reload=False)
        # chosen here, not at `initialized`: documents may arrive before that notification
        encoding = ServerCapabilitiesBuilder.choose_position_encoding(params.capabilities)
        ls.documents.encoding = ENCODINGS.get(str(getattr(encoding, "value", encoding)), "utf-16")
        log.info("position encoding: %s", ls.documents.encoding)
        parent.watch(params.process_id, ls.stop_reading)

    @server.feature(types.INITIALIZED)
    async def on_initialized(ls: TenonServer, _params: types.InitializedParams) -> None:
        if not ls.settings.enable:
            ls.notifier.set_status("disabled", "Tenon is disabled in the settings")
        elif ls.config.load_on_start:
            ls.schedule_reload()
        if ls.config.watch_bundle:
            ls.start_task(watch(ls))
