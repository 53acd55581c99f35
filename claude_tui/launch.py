"""`claude-tui` (chat): settings → backend, history, logs → the Textual app."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Settings


def launch(settings: "Settings", *, simulate: bool) -> int:
    from .gc_policy import start_up_paused

    with start_up_paused():  # until the app has its screen and the SDK (ClaudeTUI._start_engine says when)
        return _launch(settings, simulate=simulate)


def _launch(settings: "Settings", *, simulate: bool) -> int:
    from . import paths
    from .backend import open_backend
    from .services import open_services
    from .ui.launch import run_app

    paths.ensure_config_dir()  # where `config init` and user themes go; nothing else is written there
    services = open_services(settings, stream_messages=True)  # the recorder and the log, as for `run`
    for notice in services.notices:  # shown before the screen takes over, and again inside the app
        print(f"claude-tui: {notice}", file=sys.stderr)
    backend = open_backend(
        simulate=simulate,
        api_key=settings.api_key,
        base_url=settings.base_url,
        simulator_config=settings.simulator.to_simulator_config(),
    )
    try:
        return run_app(
            backend,
            **settings.request_options(),
            limits=settings.limits,
            theme=settings.theme,
            show_stats=None if settings.source("show_stats") == "default" else settings.show_stats,  # default: by width
            # given for this launch (flag or environment): wins over what was last chosen in the app
            pinned=[k for k in ("theme", "concurrency", "show_stats") if settings.source(k).startswith(("command line", "environment"))],
            user_theme_dir=paths.config_dir() / "themes",
            prompt_cache=settings.prompt_cache,
            thinking_budget=settings.thinking_budget,
            services=services,
        )
    finally:
        services.close()
