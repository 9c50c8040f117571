"""LSP features, one module each; every module has ``register(server)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tenon.server import TenonServer


def register_all(server: TenonServer) -> None:
    from tenon.features import (
        code_action,
        commands,
        completion,
        configuration,
        inline_completion,
        lifecycle,
    )

    for module in (lifecycle, configuration, inline_completion, completion, code_action,
                   commands):
        module.register(server)
