"""``claude-tui history list | search TEXT | show ID | export ID | stats | rename ID TITLE | delete ID``."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from .. import paths
from ..store import HistoryError, HistoryStore
from ..store import export as exporter


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``history`` subcommand's arguments (``cli.build_parser`` gives it its name and help line)."""
    parser.add_argument("--db", dest="history_db", default=argparse.SUPPRESS, help="use this history database file")
    actions = parser.add_subparsers(dest="history_action", metavar="{list,search,show,export,stats,rename,delete}")

    ls = actions.add_parser("list", help="conversations, newest first")
    ls.add_argument("-s", "--search", help="only conversations whose title or messages contain this text")
    ls.add_argument("-n", "--limit", type=int, default=50, help="at most this many (default 50)")

    se = actions.add_parser("search", help="full-text search over titles and messages, with the matches highlighted")
    se.add_argument("text", nargs="+", help="words to find (all of them; a word matches as a prefix: 'aardv' finds 'aardvark')")
    se.add_argument("-n", "--limit", type=int, default=20, help="at most this many conversations (default 20)")

    show = actions.add_parser("show", help="print a conversation")
    show.add_argument("id", type=int)

    ex = actions.add_parser("export", help="write a conversation as Markdown or JSON")
    ex.add_argument("id", type=int)
    ex.add_argument("--format", choices=exporter.FORMATS, default="md")
    ex.add_argument("--out", "-o", help="write to this file instead of stdout")

    st = actions.add_parser("stats", help="requests, tokens, cost and latency per day and model")
    st.add_argument("--days", type=int, help="only the last N days")
    st.add_argument("--json", action="store_true", help="machine-readable output")

    rn = actions.add_parser("rename", help="set a conversation's title")
    rn.add_argument("id", type=int)
    rn.add_argument("title")

    rm = actions.add_parser("delete", help="delete a conversation and its messages")
    rm.add_argument("id", type=int)
    rm.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")

    parser.set_defaults(func=run)


def run(ns: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None, stdin: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    stdin = stdin or sys.stdin
    action = getattr(ns, "history_action", None) or "list"
    db = Path(getattr(ns, "history_db", None) or paths.history_db())
    if not db.exists() and action in ("list", "stats", "search"):
        print("no requests recorded yet" if action == "stats" else "no history yet", file=out)
        return 0
    if not db.exists():
        print(f"history: no conversation {ns.id} (no history yet)", file=err)
        return 1
    try:
        store = HistoryStore.open(db)
    except HistoryError as exc:
        print(f"history: {exc}", file=err)
        return 2
    try:
        if store.notice:
            print(f"history: {store.notice}", file=err)
        return _ACTIONS[action](store, ns, out, err, stdin)
    except HistoryError as exc:
        print(f"history: {exc}", file=err)
        return 2
    finally:
        store.close()


def _when(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def _one_line(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _list(store: HistoryStore, ns: Any, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    rows = store.list_conversations(getattr(ns, "search", None), limit=getattr(ns, "limit", 50))
    if not rows:
        print("no matching conversations" if getattr(ns, "search", None) else "no conversations yet", file=out)
        return 0
    print(f"{'ID':>5}  {'UPDATED':<16}  {'MODEL':<20}  {'MSGS':>4}  TITLE", file=out)
    for r in rows:
        title = r.title or _one_line(r.preview, 60) or "(untitled)"
        print(f"{r.id:>5}  {_when(r.updated_at):<16}  {_one_line(r.model, 20):<20}  {r.message_count:>4}  {_one_line(title, 120)}", file=out)
    return 0


def _marked(segments: Any, tty: bool) -> str:
    """A search hit's runs of text with the matches highlighted: reverse video at a terminal
    (unless NO_COLOR), else «» around them, so a pipe or a file still shows what matched."""
    if tty:
        return "".join(f"\x1b[1;7m{text}\x1b[0m" if hit else text for text, hit in segments)
    return "".join(f"«{text}»" if hit else text for text, hit in segments)


def _search(store: HistoryStore, ns: Any, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    from ..store.db import fts_query

    text = " ".join(ns.text)
    if fts_query(text) is None:
        print(f"history: nothing to search for in {text!r} (give a word)", file=err)
        return 2
    hits = store.search(text, limit=ns.limit)
    if not hits:
        print(f"no conversation matches {text!r}", file=out)
        return 0
    tty = out.isatty() and not os.environ.get("NO_COLOR")
    for hit in hits:
        title = _marked(hit.marked_title, tty) if hit.marked_title else "(untitled)"
        print(f"{hit.id:>5}  {_when(hit.updated_at)}  {title}", file=out)
        if hit.snippet:
            where = " (in an earlier branch: `history show` lists it)" if hit.earlier_branch else ""
            print(f"       {hit.role}{where}: {_marked(hit.snippet, tty)}", file=out)
    return 0


def _get(store: HistoryStore, ns: Any, err: TextIO) -> Any:
    conv = store.get_conversation(ns.id, branches=True)  # show and export list the earlier branches too
    if conv is None:
        print(f"history: no conversation {ns.id}", file=err)
    return conv


def _show(store: HistoryStore, ns: Any, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    conv = _get(store, ns, err)
    if conv is None:
        return 1
    out.write(exporter.to_markdown(conv))
    return 0


def _export(store: HistoryStore, ns: Any, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    conv = _get(store, ns, err)
    if conv is None:
        return 1
    text = exporter.export(conv, ns.format)
    if ns.out and ns.out != "-":
        try:
            Path(ns.out).write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"history: cannot write {ns.out}: {exc.strerror or exc}", file=err)
            return 1
        print(f"wrote {ns.out}", file=err)
    else:
        out.write(text)
    return 0


def _stats(store: HistoryStore, ns: Any, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    since = None
    if getattr(ns, "days", None):
        start = _dt.datetime.now().replace(hour=0, minute=0, second=0, microsecond=0) - _dt.timedelta(days=ns.days - 1)
        since = start.timestamp()
    rows = store.stats(since=since)
    if getattr(ns, "json", False):
        out.write(json.dumps([asdict(r) for r in rows], indent=2) + "\n")
        return 0
    if not rows:
        print("no requests recorded yet", file=out)
        return 0

    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.0f}"

    print(
        f"{'DAY':<10}  {'MODEL':<22}  {'REQS':>5}  {'ERRS':>4}  {'IN TOK':>9}  {'OUT TOK':>9}  {'COST $':>9}  "
        f"{'P50 ms':>7}  {'P95 ms':>7}  {'P99 ms':>7}",
        file=out,
    )
    for r in rows:
        print(
            f"{r.day:<10}  {_one_line(r.model, 22):<22}  {r.requests:>5}  {r.errors:>4}  {r.input_tokens:>9}  {r.output_tokens:>9}  "
            f"{r.cost:>9.4f}  {ms(r.latency_ms.p50):>7}  {ms(r.latency_ms.p95):>7}  {ms(r.latency_ms.p99):>7}",
            file=out,
        )
    total_cost = sum(r.cost for r in rows)
    total_reqs = sum(r.requests for r in rows)
    print(f"total: {total_reqs} requests, ${total_cost:.4f} (estimated from list prices)", file=out)
    for spend in store.spend_by_mode(since=since):
        label = "live" if spend.mode == "live" else "batch (Message Batches, 50 % price)"
        print(f"  {label}: {spend.requests} requests, {spend.input_tokens} in / {spend.output_tokens} out tokens, "
              f"${spend.cost:.4f}", file=out)
    return 0


def _rename(store: HistoryStore, ns: Any, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    if not store.rename(ns.id, ns.title):
        print(f"history: no conversation {ns.id}", file=err)
        return 1
    print(f"renamed {ns.id}", file=out)
    return 0


def _delete(store: HistoryStore, ns: Any, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    conv = _get(store, ns, err)
    if conv is None:
        return 1
    if not ns.yes:
        if not stdin.isatty():
            print(f"history: not deleting conversation {ns.id} without confirmation (pass --yes)", file=err)
            return 1
        print(f"delete conversation {ns.id} '{conv.title}' ({len(conv.messages)} messages)? [y/N] ", end="", file=out, flush=True)
        if stdin.readline().strip().lower() not in ("y", "yes"):
            print("not deleted", file=out)
            return 1
    store.delete(ns.id)
    print(f"deleted {ns.id}", file=out)
    return 0


_ACTIONS = {"list": _list, "search": _search, "show": _show, "export": _export, "stats": _stats, "rename": _rename, "delete": _delete}
