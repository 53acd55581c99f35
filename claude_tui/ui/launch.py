"""Run the app: ``run_app(backend, **app_kwargs) -> exit code``. The lead's ``launch(settings, simulate)`` builds on it."""

from __future__ import annotations

from typing import Any

from claude_tui.backend import Backend


def run_app(backend: Backend, **app_kwargs: Any) -> int:
    """Run ClaudeTUI full-screen until the user quits; always closes the backend (stops the simulator)."""
    from .app import ClaudeTUI

    try:
        app = ClaudeTUI(backend, **app_kwargs)
        result = app.run()
        if app.return_code not in (None, 0):
            return int(app.return_code)
        return int(result or 0)
    finally:
        backend.close()
