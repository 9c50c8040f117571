"""Commands and custom requests: reload the model, report status and counters."""

from __future__ import annotations

import sys
from typing import Any

from tenon.server import TenonServer  # at run time: pygls resolves command annotations

RELOAD_COMMAND = "tenon.reloadModel"
STATS_REQUEST = "tenon/stats"
HEAVY_MODULES = ("torch", "transformers", "peft", "accelerate", "tenon_train")


def stats_of(ls: TenonServer) -> dict[str, Any]:
    engine = ls.model.engine.stats.snapshot() if ls.model else {}
    return {
        "status": ls.notifier.status.to_json(),
        "engine": engine,
        "runner": ls.runner.stats.snapshot(),
        "documents": len(ls.documents.uris()),
        # the server must never load the training stack
        "heavyModules": sorted(m for m in HEAVY_MODULES if m in sys.modules),
    }


def register(server: TenonServer) -> None:
    @server.command(RELOAD_COMMAND)
    async def reload_model(ls: TenonServer, *_args: Any) -> dict[str, Any]:
        ok = await ls.reload_model()
        return {"reloaded": ok, "status": ls.notifier.status.to_json()}

    @server.feature(STATS_REQUEST)
    def stats(ls: TenonServer, *_params: Any) -> dict[str, Any]:
        return stats_of(ls)
