"""docs/simulator.md keeps up with the simulator: every fault kind and route is documented, there is a
"what is still not imitated" section, and every test its proof table names exists."""

from __future__ import annotations

import re
from pathlib import Path

from claude_tui.simulator.config import FAULT_KINDS

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "simulator.md").read_text()


def test_every_fault_kind_is_documented() -> None:
    for kind in (*FAULT_KINDS, "batch_errored", "batch_expired"):
        assert f"`{kind}`" in DOC, kind


def test_every_route_is_documented() -> None:
    from claude_tui.simulator.app import SimState
    from claude_tui.simulator.application import build
    from claude_tui.simulator.config import SimulatorConfig

    app = build(SimState(SimulatorConfig()))
    paths = {route.resource.canonical for route in app.router.routes() if route.resource is not None}
    for path in paths:
        shown = path.replace("{model_id}", "{id}").replace("{batch_id}", "{id}")
        assert shown in DOC or path.split("/{")[0] in DOC, path


def test_not_imitated_section_and_doc_pages_are_there() -> None:
    assert "## What is still not imitated" in DOC
    for page in ("en/api/messages", "models/overview", "rate-limits", "en/api/errors", "prompt-caching",
                 "tool-use", "build-with-claude/streaming", "about-claude/pricing"):
        assert page in DOC, page


def test_every_test_the_proof_table_names_exists() -> None:
    table = DOC.split("## What issue #11 asked to show", 1)[1]
    named = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", table)
    assert len(named) >= 7
    last_file = None
    for path, name in named:
        source = (ROOT / path).read_text()
        last_file = source
        if name:
            assert re.search(rf"def {name}\(", source), f"{path}::{name}"
    for name in re.findall(r"`::(\w+)`", table):  # "::name" continues the file named before it
        assert last_file is not None
        assert any(re.search(rf"def {name}\(", (ROOT / p).read_text()) for p, _ in named), name
