"""The palette's built-in "Screenshot" saves where an export goes and says where, even with no
~/Downloads (Textual's default, which failed: "Failed to save screenshot")."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import SIZE, make_app, wait_for


async def test_palette_screenshot_saves_beside_exports_without_downloads(make_sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))  # no ~/Downloads
    monkeypatch.delenv("XDG_DOWNLOAD_DIR", raising=False)
    monkeypatch.chdir(work)
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        [command] = [c for c in app.get_system_commands(app.screen) if c.title == "Screenshot"]
        command.callback()  # what choosing it in the palette runs
        # the file appears before Textual has finished writing it: wait for a whole SVG
        saved = await wait_for(pilot, lambda: [f for f in work.glob("*.svg") if f.read_text().rstrip().endswith("</svg>")],
                               what="the screenshot file, written")
        assert saved[0].read_text().lstrip().startswith("<svg")
        assert saved[0].parent == app.default_export_path(app.active_chat).parent
        messages = await wait_for(pilot, lambda: [n.message for n in app._notifications if "creenshot" in n.title], what="a notice")
        assert str(saved[0]) in messages[0] and "Failed" not in messages[0]
    assert not (home / "Downloads").exists()
