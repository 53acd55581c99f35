"""`run`'s notices go through its console, so none lands in the middle of the progress bar.

A notice raised while the bar is live (the history's "history off: disk full", the log's, the
limiter's) was a raw write to stderr. In a terminal rich's Live happens to catch such writes (it
proxies sys.stderr while the bar is drawn), but without the run's styling, and not at all for
output that does not pass through ``sys.stderr``. Now every notice goes through the run's console:
rich clears the bar, prints the line (yellow, like every notice) and draws the bar again below it.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from claude_tui.engine.events import JobEvent, Started
from claude_tui.engine.retry import RetryPolicy
from claude_tui.headless.prompts import PromptSpec
from claude_tui.headless.run import RunOptions, run_batch
from claude_tui.logs import notice
from claude_tui.simulator import Simulator, SimulatorConfig

FAST = dict(ttft_ms=10, tps=3000, reply_tokens=40, fixed_length=True, jitter=0.0, seed=3, rpm=0, itpm=0, otpm=0)
OPTIONS = RunOptions(model="claude-haiku-4-5", max_tokens=200, system=None, concurrency=2, policy=RetryPolicy(base=0.01, cap=0.05), stall_timeout=2.0)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def terminal_lines(console: Console) -> list[str]:
    """What a terminal shows line by line: escape sequences dropped, split at CR and LF."""
    return re.split(r"[\r\n]", ANSI.sub("", console.file.getvalue()))  # type: ignore[attr-defined]


async def test_a_notice_while_the_bar_is_live_is_a_line_of_its_own(tmp_path: Path, capsys) -> None:
    said: list[str] = []

    def disk_fills(event: JobEvent) -> None:  # what the history recorder says when its disk fills
        if isinstance(event, Started) and not said:
            said.append(event.job_id)
            notice("history off: disk full")

    specs = [PromptSpec(id=f"p{i}", prompt=f"question {i}") for i in range(6)]
    console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system="standard")
    async with Simulator(SimulatorConfig(**FAST)) as sim:
        outcome = await run_batch(specs, OPTIONS, api_key="k", base_url=sim.base_url, out_path=tmp_path / "o.jsonl",
                                  console=console, listeners=[disk_fills])
    assert outcome.exit_code == 0 and outcome.succeeded == 6  # the prompts alone decide the exit status
    assert said, "the notice was raised while the bar was live"
    lines = terminal_lines(console)
    assert "claude-tui: history off: disk full" in lines
    assert "\x1b[33mclaude-tui: history off: disk full\x1b[0m" in console.file.getvalue()  # styled as a notice  # type: ignore[attr-defined]
    assert "6/6" in console.file.getvalue()  # the bar was drawn (and finished) around it  # type: ignore[attr-defined]
    assert "disk full" not in capsys.readouterr().err  # nothing went around the console


async def test_a_shared_budget_that_cannot_be_reached_says_so_before_the_run(tmp_path: Path) -> None:
    from claude_tui.config.specs import LimitSettings

    console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system=None)
    options = RunOptions(**{**OPTIONS.__dict__, "limits": LimitSettings(redis_url="redis://127.0.0.1:1/0")})
    async with Simulator(SimulatorConfig(**FAST)) as sim:
        outcome = await run_batch([PromptSpec(id="a", prompt="hi")], options, api_key="k", base_url=sim.base_url,
                                  out_path=tmp_path / "o.jsonl", console=console)
    assert outcome.exit_code == 0
    lines = terminal_lines(console)
    first = next(line for line in lines if line.strip())
    assert first.startswith("limiter: local") and "—" in first  # says why it paces locally, on its own line
