"""Build and run the app.

``run_app(backend, **app_kwargs) -> exit code`` runs it full-screen (``claude_tui/launch.py`` turns
settings into its arguments). ``build_app(base_url, ...)`` is the one builder of an app on a simulator
for tests, screenshots and the UI benchmark: the defaults they share live here, once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from claude_tui.backend import SIMULATOR_KEY, Backend

if TYPE_CHECKING:
    from claude_tui.store import HistoryStore

    from .app import ClaudeTUI


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


def build_app(
    base_url: str,
    *,
    api_key: str = SIMULATOR_KEY,
    store: "HistoryStore | None" = None,
    app_class: "type[ClaudeTUI] | None" = None,
    **options: Any,
) -> "ClaudeTUI":
    """An app on the simulator at ``base_url``; ``options`` override the shared defaults below.

    ``store``: history on, its recorder wired as ``claude-tui`` wires it (``Services.with_history``).
    """
    from claude_tui.engine.retry import RetryPolicy
    from claude_tui.services import Services

    from .app import ClaudeTUI

    settings: dict[str, Any] = dict(
        model="claude-sonnet-4-6",
        max_tokens=512,
        system=None,
        concurrency=4,
        policy=RetryPolicy(max_attempts=5, base=0.05, cap=0.2),  # quick retries: a test waits for them
        stall_timeout=5.0,
        show_stats=True,
    )
    if store is not None:
        settings["services"] = Services.with_history(store, prices=options.get("prices"))
    settings.update(options)
    backend = Backend(api_key=api_key, base_url=base_url, simulated=True)
    return (app_class or ClaudeTUI)(backend, **settings)
