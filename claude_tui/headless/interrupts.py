"""Ctrl-C and SIGTERM as a callback on the running loop, for every command that stops cleanly."""

from __future__ import annotations

import asyncio
import signal
from typing import Callable


def add_signal_handlers(callback: Callable[[], object], *signals: signal.Signals) -> list[signal.Signals]:
    """Call ``callback`` on each of ``signals``; return those installed, for ``remove_signal_handlers``.

    Where the loop cannot take handlers (Windows, a loop outside the main thread) none is installed and
    Ctrl-C stays a KeyboardInterrupt, which the commands also handle.
    """
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in signals:
        try:
            loop.add_signal_handler(sig, callback)
        except (NotImplementedError, RuntimeError):
            continue
        installed.append(sig)
    return installed


def remove_signal_handlers(installed: list[signal.Signals]) -> None:
    loop = asyncio.get_running_loop()
    for sig in installed:
        loop.remove_signal_handler(sig)
