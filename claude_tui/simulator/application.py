"""The whole simulator as one aiohttp application: the Messages routes (``app.py``) and the Message
Batches routes (``batches.py``, which builds on ``app.py``, so the two meet here, not in either)."""

from __future__ import annotations

from aiohttp import web

from .app import Routes, SimState, build_app
from .batches import register as register_batches


def build(state: SimState) -> web.Application:
    routes = Routes(state)
    app = build_app(state, routes)
    register_batches(app, routes)
    return app
