"""What the server tells the user: a status notification and rate-limited messages."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from lsprotocol import types

log = logging.getLogger(__name__)
STATUS_METHOD = "tenon/status"


@dataclass
class Status:
    state: str = "starting"  # starting, loading, ready, error, disabled
    message: str = ""
    model: dict[str, Any] = field(default_factory=dict)
    last_latency_ms: float | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {
            "state": data["state"],
            "message": data["message"],
            "model": data["model"],
            "provider": self.model.get("provider", ""),
            "lastLatencyMs": data["last_latency_ms"],
        }


class Notifier:
    """Sends status updates, and each distinct message at most once per interval."""

    def __init__(self, server: Any, interval_s: float = 60.0) -> None:
        self._server = server
        self._interval = interval_s
        self._last_sent: dict[str, float] = {}
        self._failing: set[str] = set()  # kinds of failure the user has been told about
        self.status = Status()

    def set_status(self, state: str, message: str = "", **changes: Any) -> None:
        self.status.state = state
        self.status.message = message
        for key, value in changes.items():
            setattr(self.status, key, value)
        self.publish()

    def publish(self) -> None:
        try:
            self._server.protocol.notify(STATUS_METHOD, self.status.to_json())
        except Exception:  # no client connected yet
            log.debug("status not sent", exc_info=True)

    def failed(self, key: str, message: str) -> None:
        """A failure of kind ``key`` (e.g. completions): the user is told once, and the
        status says so, until :meth:`recovered` is called for it."""
        if self.status.state == "ready":
            self.set_status("ready", message)
        if key in self._failing:
            log.warning("(still failing, not shown again) %s", message)
            return
        self._failing.add(key)
        if len(self._last_sent) > 256:  # distinct messages only grow with hostile input
            self._last_sent.clear()
        self.show(message, types.MessageType.Error)

    def recovered(self, key: str) -> None:
        if key not in self._failing:
            return
        self._failing.discard(key)
        log.info("%s works again", key)
        if self.status.state == "ready" and self.status.model:
            model = self.status.model
            self.set_status("ready", f"{model.get('name')} on {model.get('providerNote')}")

    def show(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        """Show ``message``; a warning or error already shown within the interval is not
        shown again (information, the answer to something the user asked for, always is)."""
        now = time.monotonic()
        repeated = now - self._last_sent.get(message, -1e9) < self._interval
        if repeated and kind != types.MessageType.Info:
            log.info("(not shown again) %s", message)
            return
        self._last_sent[message] = now
        level = {types.MessageType.Error: logging.ERROR, types.MessageType.Info: logging.INFO}
        log.log(level.get(kind, logging.WARNING), "%s", message)
        try:
            self._server.window_show_message(types.ShowMessageParams(kind, f"Tenon: {message}"))
        except Exception:
            log.debug("message not sent", exc_info=True)
