"""Exit when the editor that started the server is gone (LSP ``initialize.processId``).

Closing stdin is the usual way a server learns its editor went away, but a pipe can outlive
its writer (another process inherited it), so the server also polls the process id the
client gave, as the LSP specification asks. A process id that is not visible when the watch
starts (another PID namespace, a remote client) is not watched.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def watch(pid: int | None, on_gone: Callable[[], None], interval_s: float = 2.0) -> bool:
    """Call ``on_gone`` once ``pid`` has exited; False if ``pid`` cannot be watched."""
    if not pid or pid <= 0 or pid == os.getpid() or not alive(pid):
        log.info("not watching the client process (%s)", pid)
        return False

    def poll() -> None:
        while alive(pid):
            time.sleep(interval_s)
        log.warning("the client process %d is gone; stopping", pid)
        on_gone()

    threading.Thread(target=poll, name="tenon-parent-watch", daemon=True).start()
    return True
