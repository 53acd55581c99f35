"""Themes (shipped files, the user's own, bad files) and the command palette's own commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandList

from claude_tui.ui.themes import DEFAULT_THEME, ThemeFileError, builtin_theme_dir, load_all, load_theme_file

from .conftest import SIZE, make_app, press, type_text, wait_for

def options(app) -> list[str]:
    """The prompts listed by the open command palette."""
    if len(app.screen_stack) < 2:
        return []
    found = app.screen.query(CommandList)
    if not found:
        return []
    command_list = found.first()
    return [str(command_list.get_option_at_index(i).prompt) for i in range(command_list.option_count)]


SHIPPED = {"claude-dark", "claude-light", "midnight", "phosphor", "solarized-dark"}


def test_shipped_themes_load() -> None:
    directory = builtin_theme_dir()
    assert directory is not None and directory.is_dir()
    loaded = load_all(None)
    assert not loaded.errors
    assert SHIPPED <= {t.name for t in loaded.themes}
    assert DEFAULT_THEME in SHIPPED


def test_bad_theme_files_are_reported(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text("name = [unclosed")
    (tmp_path / "badcolor.toml").write_text('name = "x"\nprimary = "not-a-colour"\n')
    (tmp_path / "extra.toml").write_text('name = "y"\nprimary = "#fff"\nsparkle = true\n')
    for name in ("broken", "badcolor", "extra"):
        with pytest.raises(ThemeFileError):
            load_theme_file(tmp_path / f"{name}.toml")
    loaded = load_all(tmp_path)
    assert len(loaded.errors) == 3 and all(e.startswith("theme ") for e in loaded.errors)


async def test_theme_switching_and_user_themes(make_sim, tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        'name = "my-theme"\ndark = true\nprimary = "#ff00aa"\nbackground = "#101010"\n[variables]\n"footer-key-foreground" = "#ff00aa"\n'
    )
    (tmp_path / "oops.toml").write_text("this is not toml = = =")
    sim = await make_sim()
    app = make_app(sim, user_theme_dir=tmp_path, theme="midnight")
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "midnight"
        assert "my-theme" in app.available_themes and SHIPPED <= set(app.available_themes)
        assert any("oops.toml" in error for error in app.theme_errors)
        assert any("oops.toml" in str(n.message) for n in app._notifications)  # a notification, not a crash
        app.theme = "my-theme"
        await pilot.pause()
        assert app.theme == "my-theme"
        # the palette's theme picker
        await press(pilot, "ctrl+p")
        await type_text(pilot, "Theme")
        await wait_for(pilot, lambda: options(app))
        await press(pilot, "enter")
        await wait_for(pilot, lambda: "Search for themes" in str(getattr(app.screen.query_one("Input"), "placeholder", "")) if len(app.screen_stack) > 1 else False, what="theme picker")
        await type_text(pilot, "phosphor")
        await pilot.pause(0.3)
        await press(pilot, "enter")
        await wait_for(pilot, lambda: app.theme == "phosphor", what="theme picked")


async def test_unknown_theme_falls_back(make_sim) -> None:
    sim = await make_sim()
    app = make_app(sim, theme="no-such-theme")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == DEFAULT_THEME


async def test_palette_lists_app_commands(make_sim) -> None:
    sim = await make_sim()
    app = make_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await app.engine_ready.wait()
        await press(pilot, "ctrl+p")
        await type_text(pilot, "concurrency")
        await wait_for(pilot, lambda: any("Concurrency" in text for text in options(app)), what="concurrency commands")
        await press(pilot, "escape")
        # commands run through the palette's callbacks
        from claude_tui.ui.commands import app_commands

        names = {name for name, _, _ in app_commands(app)}
        for wanted in ("New tab", "Close tab", "Model…", "System prompt…", "Max tokens…", "Concurrency…", "Theme…",
                       "Toggle stats panel", "Copy last reply", "Copy last code block", "Export conversation to Markdown…"):
            assert wanted in names
        assert app.pool is not None
        # the concurrency dialog
        await wait_for(pilot, lambda: len(app.screen_stack) == 1)
        app.action_edit_concurrency()
        await wait_for(pilot, lambda: len(app.screen_stack) == 2 and app.screen.query("Input"))
        field = app.screen.query_one("Input")
        field.value = "7"
        await press(pilot, "enter")
        await wait_for(pilot, lambda: app.pool.limit == 7, what="limit from dialog")
        # the model picker
        app.action_pick_model()
        await wait_for(pilot, lambda: len(app.screen_stack) == 2)
        await type_text(pilot, "haiku-4-5")  # the table now has Haiku 5.5 too
        await pilot.pause(0.3)
        await press(pilot, "enter")
        await wait_for(pilot, lambda: app.model == "claude-haiku-4-5", what="model picked")
        # stats toggle
        shown = app.stats_panel.display
        await press(pilot, "f2")
        assert app.stats_panel.display is (not shown)
