"""Render benchmark for StreamingMarkdown (headless, 120x40).

    /tmp/venv/bin/python benchmarks/bench_render.py [--tokens 20000] [--quick]

Measures, in one run:

1. StreamingMarkdown: one reply of N tokens streamed as fast as the app absorbs
   it (``widget.append(tok)`` then ``await asyncio.sleep(0)``), clock stopped
   when ``await widget.finish()`` returns (final render on screen).  Reports
   tokens/s and the ratio (time for the 2nd half of the tokens) / (1st half);
   at the half-way mark both widgets are synced (first half rendered and on
   screen) so each half's time includes its own rendering.
2. Baseline: Textual's stock ``Markdown.get_stream`` (``await stream.write``)
   into one ``Markdown``, same feed; clock stopped after ``stream.stop()`` and
   the next screen refresh.
3. Baseline: naive ``await markdown.update(full_text)`` per token on a short
   feed (1k tokens, capped in time; tok/s over what it processed).
4. Conversation: 50 finished replies x 2,000 tokens in an anchored log, one new
   reply streaming at 100 tok/s, while a pilot types into an ``Input``.
   Key echo delay = time from posting the key event (as the terminal driver
   does; ``pilot.press`` also waits for every widget's queue to drain, which
   measures the harness) to the moment the character
   is in ``Input.value`` AND a screen refresh has completed after that (a
   callback scheduled with ``call_after_refresh`` ran), i.e. the echo has been
   painted.  p50/p99 over the keystrokes.  Run for StreamingMarkdown and for the
   stock Markdown/MarkdownStream.

Every run verifies real rendering: the last line of the feed must be on the
screen (the compositor's rendered strips) at the end, else the run fails.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual import events  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.containers import VerticalScroll  # noqa: E402
from textual.widgets import Input, Markdown, Static  # noqa: E402

from claude_tui.gc_policy import CollectorPolicy  # noqa: E402
from claude_tui.ui.widgets.streaming_markdown import StreamingMarkdown  # noqa: E402

DEBUG = False
SIZE = (120, 40)
WORDS = (
    "the quick brown fox jumps over a lazy dog while streaming tokens render markdown "
    "widgets layout frames python textual claude reply latency budget compositor"
).split()
TOKEN_RE = re.compile(r"\S+\s*|\s+")


# --------------------------------------------------------------------- feed


def make_feed(n_tokens: int, seed: int = 7, marker: str = "END-OF-REPLY") -> list[str]:
    """A deterministic Markdown-rich reply of exactly ``n_tokens`` tokens.

    Headings, paragraphs with inline styles, bullet and ordered lists, fenced
    code with a language, tables, quotes.  Ends with a paragraph containing
    ``marker`` (used to verify the final render is on screen).
    """
    rng = random.Random(seed)

    def words(k: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(k))

    tail = TOKEN_RE.findall(f"\n\nFinal line {marker} {n_tokens}.\n")
    budget = n_tokens - len(tail)
    tokens: list[str] = []
    i = 0
    while len(tokens) < budget:
        kind = i % 8
        if kind == 0:
            block = f"## {i // 8 + 1}. {words(3).title()}\n\n"
        elif kind in (1, 5):
            block = f"{words(rng.randint(20, 50))} with **bold {words(2)}** and `code_{i}` here.\n\n"
        elif kind == 2:
            block = "".join(f"- item {j}: {words(rng.randint(3, 8))}\n" for j in range(rng.randint(2, 5))) + "\n"
        elif kind == 3:
            body = "".join(
                f"def step_{i}_{j}(x):\n    return x * {j} + {rng.randint(0, 99)}  # {words(2)}\n"
                for j in range(rng.randint(2, 6))
            )
            block = f"```python\n{body}```\n\n"
        elif kind == 4:
            rows = "".join(
                f"| {words(1)} | {rng.randint(0, 999)} | {words(2)} |\n" for _ in range(rng.randint(2, 5))
            )
            block = f"| name | value | note |\n|---|---:|---|\n{rows}\n"
        elif kind == 6:
            block = "".join(f"{j}. {words(rng.randint(3, 7))}\n" for j in range(1, rng.randint(3, 5))) + "\n"
        else:
            block = f"> {words(rng.randint(8, 16))}\n\n"
        tokens.extend(TOKEN_RE.findall(block))
        i += 1
    return tokens[:budget] + tail


# ----------------------------------------------------------------- helpers


def screen_text(app: App) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


class LogApp(App):
    CSS = "#log { height: 1fr; }"

    def __init__(self, widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="log") as log:
            log.anchor()
            yield self.widget


def _result(name: str, n: int, t0: float, t_half: float, t_end: float, ok: bool) -> dict:
    first = t_half - t0
    second = t_end - t_half
    return {
        "name": name,
        "tokens": n,
        "seconds": t_end - t0,
        "tok_s": n / (t_end - t0),
        "ratio": second / first if first > 0 else float("nan"),
        "verified": ok,
    }


# ---------------------------------------------------------------- scenarios


async def bench_streaming(tokens: list[str]) -> dict:
    widget = StreamingMarkdown()
    app = LogApp(widget)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        half = len(tokens) // 2
        t0 = time.perf_counter()
        t_half = t0
        for index, token in enumerate(tokens, 1):
            widget.append(token)
            await asyncio.sleep(0)
            if index == half:
                # Checkpoint: the first half is rendered and on screen.
                await widget.finish()
                t_half = time.perf_counter()
        await widget.finish()
        t_end = time.perf_counter()
        ok = "END-OF-REPLY" in screen_text(app) and widget.text == "".join(tokens)
        result = _result("StreamingMarkdown", len(tokens), t0, t_half, t_end, ok)
        result["renders"] = widget.flush_count
        return result


async def bench_stock_stream(tokens: list[str]) -> dict:
    markdown = Markdown()
    app = LogApp(markdown)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        half = len(tokens) // 2
        stream = Markdown.get_stream(markdown)
        t0 = time.perf_counter()
        t_half = t0
        for index, token in enumerate(tokens, 1):
            await stream.write(token)  # includes asyncio.sleep(0)
            if index == half:
                # Checkpoint: the first half is rendered and on screen.
                while stream._pending or markdown.lock.is_locked:
                    await asyncio.sleep(0)
                await markdown.wait_for_refresh()
                t_half = time.perf_counter()
        await stream.stop()
        await markdown.wait_for_refresh()
        t_end = time.perf_counter()
        ok = "END-OF-REPLY" in screen_text(app)
        return _result("stock MarkdownStream", len(tokens), t0, t_half, t_end, ok)


async def bench_naive(tokens: list[str], time_cap: float) -> dict:
    markdown = Markdown()
    app = LogApp(markdown)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = ""
        t0 = time.perf_counter()
        half = len(tokens) // 2
        t_half = None
        done = 0
        for index, token in enumerate(tokens, 1):
            text += token
            await markdown.update(text)
            done = index
            if index == half:
                t_half = time.perf_counter()
            if time.perf_counter() - t0 > time_cap:
                break
        await markdown.wait_for_refresh()
        t_end = time.perf_counter()
        if t_half is None:
            t_half = t0 + (t_end - t0) / 2  # capped before half-way: ratio not meaningful
        complete = done == len(tokens)
        ok = ("END-OF-REPLY" in screen_text(app)) if complete else bool(screen_text(app).strip())
        result = _result("naive update(full_text)", done, t0, t_half, t_end, ok)
        if not complete:
            result["ratio"] = float("nan")
            result["note"] = f"capped at {time_cap:.1f}s after {done}/{len(tokens)} tokens"
        return result


class ConversationApp(App):
    CSS = """
    #log { height: 1fr; }
    .user { margin: 1 2; padding: 0 1; background: $boost; }
    Input { dock: bottom; }
    """

    def __init__(self, kind: str, replies: list[str]) -> None:
        super().__init__()
        self.kind = kind
        self.replies = replies

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="log") as log:
            log.anchor()
            for index, reply in enumerate(self.replies):
                yield Static(f"user message {index}: tell me more", classes="user")
                if self.kind == "ours":
                    yield StreamingMarkdown(reply)
                else:
                    yield Markdown(reply)
        yield Input(id="prompt")


async def bench_conversation(kind: str, n_replies: int, reply_tokens: int, keys: int, stream_rate: float) -> dict:
    gc.collect()  # don't bill this scenario for the previous scenarios' garbage
    replies = ["".join(make_feed(reply_tokens, seed=100 + i, marker=f"R{i}")) for i in range(n_replies)]
    app = ConversationApp(kind, replies)
    live_tokens = make_feed(max(keys * 10, 2000), seed=999)
    delays: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one("#log", VerticalScroll)
        if kind == "ours":
            for widget in app.query(StreamingMarkdown):
                await widget.finish()
        await pilot.pause()
        # The app's garbage-collector policy (claude_tui.gc_policy), for both widgets: finished
        # replies are frozen out of full collections, and frozen again twice a second while busy.
        collector = CollectorPolicy()
        collector.freeze()
        t_setup = time.perf_counter()
        if kind == "ours":
            live = StreamingMarkdown()
            await log.mount(live)
            writer = live.append
        else:
            live_md = Markdown()
            await log.mount(live_md)
            stream = Markdown.get_stream(live_md)

            def writer(token: str) -> None:
                stream._pending.append(token)
                stream._new_markup.set()

        stop = asyncio.Event()

        async def feed() -> None:
            interval = 1.0 / stream_rate
            start = time.perf_counter()
            next_tick = start + 0.5
            for index, token in enumerate(live_tokens):
                if stop.is_set():
                    return
                writer(token)
                if time.perf_counter() >= next_tick:
                    collector.tick(busy=True)
                    next_tick += 0.5
                delay = start + (index + 1) * interval - time.perf_counter()
                await asyncio.sleep(max(0.0, delay))

        feeder = asyncio.create_task(feed())
        prompt = app.query_one("#prompt", Input)
        prompt.focus()
        await pilot.pause()
        rng = random.Random(5)
        for index in range(keys):
            char = rng.choice("abcdefghijklmnopqrstuvwxyz")
            expected = prompt.value + char
            refreshed = asyncio.Event()
            t0 = time.perf_counter()
            # Deliver the key the way the terminal driver does.  (pilot.press()
            # additionally waits until every widget's message queue is empty,
            # which never happens quickly while a reply is streaming: that
            # measures the test harness, not the echo.)
            app.post_message(events.Key(char, char))
            while prompt.value != expected:
                await asyncio.sleep(0.0005)
            prompt.call_after_refresh(refreshed.set)
            await refreshed.wait()
            delays.append(time.perf_counter() - t0)
            if DEBUG: print(f"{delays[-1]*1000:.1f}", end=" ", flush=True)
            await asyncio.sleep(rng.uniform(0.02, 0.06))
        stop.set()
        gc.unfreeze()
        feeder.cancel()
        try:
            await feeder
        except asyncio.CancelledError:
            pass
        if kind == "ours":
            await live.finish()
        else:
            await stream.stop()
        await pilot.pause()
        ok = prompt.value[-5:] in screen_text(app) and len(prompt.value) == keys
        elapsed = time.perf_counter() - t_setup
    delays.sort()
    p99_index = min(len(delays) - 1, int(round(0.99 * (len(delays) - 1))))
    return {
        "name": f"conversation ({'StreamingMarkdown' if kind == 'ours' else 'stock Markdown'})",
        "replies": n_replies,
        "keys": keys,
        "p50_ms": statistics.median(delays) * 1000,
        "p99_ms": delays[p99_index] * 1000,
        "max_ms": delays[-1] * 1000,
        "seconds": elapsed,
        "verified": ok,
    }


# --------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=20000, help="tokens in the streamed reply")
    parser.add_argument("--quick", action="store_true", help="small sizes, < 20 s (CI)")
    args = parser.parse_args()

    if args.quick:
        n_tokens, naive_tokens, naive_cap = min(args.tokens, 3000), 200, 1.5
        replies, keys, stock_replies = 10, 20, 2
    else:
        n_tokens, naive_tokens, naive_cap = args.tokens, 1000, 30.0
        # The stock log with 50 replies takes minutes to build; 20 shows the trend.
        replies, keys, stock_replies = 50, 100, 20

    async def run() -> list[dict]:
        feed = make_feed(n_tokens)
        results = [await bench_streaming(feed)]
        results.append(await bench_stock_stream(feed))
        results.append(await bench_naive(make_feed(naive_tokens), naive_cap))
        results.append(await bench_conversation("ours", replies, 2000, keys, 100.0))
        results.append(await bench_conversation("stock", stock_replies, 2000, keys, 100.0))
        return results

    started = time.perf_counter()
    results = asyncio.run(run())
    ours, stock, naive, conv, conv_stock = results

    print(f"\nRender benchmark, headless {SIZE[0]}x{SIZE[1]}, Textual {__import__('textual').__version__}")
    print(f"{'scenario':<34}{'tokens':>8}{'tok/s':>11}{'2nd/1st':>9}{'vs ours':>16}  verified")
    for r in (ours, stock, naive):
        speedup = ours["tok_s"] / r["tok_s"]
        ratio = "n/a" if r["ratio"] != r["ratio"] else f"{r['ratio']:.2f}"
        print(
            f"{r['name']:<34}{r['tokens']:>8}{r['tok_s']:>11,.0f}{ratio:>9}"
            f"{('1.0x' if r is ours else f'{speedup:,.1f}x slower'):>16}  {r['verified']}"
            + (f"  ({r['note']})" if "note" in r else "")
        )
    print(f"  StreamingMarkdown renders (parse+layout passes): {ours['renders']} for {ours['tokens']} tokens")
    print(f"\n{'conversation (typing while streaming)':<44}{'replies':>8}{'keys':>6}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}  verified")
    for r in (conv, conv_stock):
        print(
            f"{r['name']:<44}{r['replies']:>8}{r['keys']:>6}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['max_ms']:>9.1f}  {r['verified']}"
        )

    failures = []
    if not all(r["verified"] for r in results):
        failures.append("a scenario did not show its final content on screen")
    if not args.quick:
        if ours["tok_s"] < 5000:
            failures.append(f"throughput {ours['tok_s']:.0f} tok/s < 5000")
        if ours["ratio"] > 1.2:
            failures.append(f"2nd/1st half ratio {ours['ratio']:.2f} > 1.2")
        if conv["p99_ms"] >= 50:
            failures.append(f"key echo p99 {conv['p99_ms']:.1f} ms >= 50")
    print(f"\ntotal {time.perf_counter() - started:.1f}s")
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
