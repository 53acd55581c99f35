"""Deterministic replies that read like an assistant's answer, produced as a list of "tokens".

A reply is plausible English about the prompt's topic: an opening that names it, paragraphs of
whole sentences, and sometimes Markdown — a heading, a short bullet or numbered list, a fenced
Python block. The sentences come from a small built-in corpus of templates with a slot for the
topic (a few content words of the last user message).

Speed: everything is tokenized once at import; a reply is a few dozen random choices, each
extending the output by a pre-tokenized tuple, so it is cheaper per token than choosing words one
by one (measured in docs/simulator.md). The same seed and request give the same reply, token for
token, and the token list is exactly as long as asked (``usage.output_tokens`` counts it).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import re
from typing import Any, Sequence

_PIECE = 4  # characters per token, roughly what the real tokenizer averages on English
_SPLIT = re.compile(r"\s*\S+|\s+")


def _pieces(text: str) -> tuple[str, ...]:
    """Split text into ~4-character tokens, a leading space staying with its word."""
    out: list[str] = []
    for word in _SPLIT.findall(text):
        lead = len(word) - len(word.lstrip())
        core = word[lead:]
        first = word[: lead + _PIECE] if len(core) > _PIECE + 1 else word
        out.append(first)
        rest = word[len(first):]
        for i in range(0, len(rest), _PIECE):
            out.append(rest[i:i + _PIECE])
    return tuple(out)


# ---------------------------------------------------------------------------------------
# The corpus. ``{t}`` is the topic as written, ``{T}`` the same capitalised.

_OPENINGS = (
    "Good question. When it comes to {t}, it helps to split the problem into a few parts.",
    "Here's how I'd think about {t}.",
    "Short answer: getting {t} right mostly comes down to a handful of decisions, most of them trade-offs.",
    "Questions about {t} look simple until you have to make the answer work under load.",
    "Let's walk through {t} step by step.",
    "There are two ways to look at {t}: how it works in principle, and what it takes in practice.",
    "Sure, happy to help with {t}. It's worth getting right, because small mistakes here tend to compound.",
    "The key idea behind {t} is simple, even if the details take a little care.",
)

# Openings that restate a short prompt ({q}: the prompt itself, ≤ 60 characters on one line). Besides
# reading naturally, they let a test see which prompt a reply answers (the UI tests rely on it).
_QUOTE_OPENINGS = (
    'You asked "{q}", so let me walk through it.',
    'Re "{q}": here is the short version first, then the details.',
    'On "{q}": it helps to split the problem into a few parts.',
    '"{q}" is a good question, and the answer depends on a few choices.',
)

_SENTENCES = (
    "The first thing to decide is what you want to optimise for, because that shapes everything else.",
    "In practice, the simplest version that you can measure usually beats a clever one you can't.",
    "Most of the trouble with {t} comes from edge cases rather than the common path.",
    "A good way to start is to write down the inputs, the outputs and what should happen when something fails.",
    "It helps to keep the moving parts small, so each one can be tested on its own.",
    "If you only change one thing at a time, it is much easier to see what actually made a difference.",
    "The common path should be boring; the interesting work is in deciding what happens when it isn't.",
    "Keep in mind that the defaults are rarely wrong, but they are tuned for the average case.",
    "Once the basic version works, measure it before you reach for anything more sophisticated.",
    "That said, there is no single right answer here, only choices that fit your constraints better or worse.",
    "With {t}, the cost of a mistake is usually time rather than correctness, which makes it forgiving to iterate on.",
    "You will often find that the bottleneck is somewhere other than where you expected it to be.",
    "It is worth logging enough detail to reconstruct what happened, without logging anything sensitive.",
    "A useful mental model is a queue: work arrives, waits for a while, and then gets done.",
    "The numbers matter less than the trend, so compare runs under the same conditions.",
    "If something is slow, first check whether it is doing work or waiting for something else.",
    "For {t}, a small amount of structure up front saves a lot of debugging later.",
    "Retries are fine, as long as they back off and eventually give up with a clear message.",
    "Be explicit about limits, and make the behaviour at the limit predictable.",
    "This is also where good error messages pay off: they turn a mystery into a checklist.",
    "Think about what a user sees while they wait, not only about the final result.",
    "Caching helps when the same work repeats, but it adds a second source of truth to keep in sync.",
    "Another option is to do less work: many problems with {t} disappear when the input gets smaller.",
    "Whichever approach you choose, write a test that fails before the change and passes after it.",
    "The trade-off is between simplicity and control, and it is fine to start simple.",
    "When in doubt, prefer the approach that is easier to explain to someone else.",
    "You can always add more knobs later; removing them is much harder.",
    "It also pays to decide early how you will know whether your approach to {t} is working.",
    "Concurrency helps throughput, but only up to the point where something else becomes the limit.",
    "Most real systems end up combining a couple of these ideas rather than picking just one.",
    "A quick experiment with realistic data will tell you more than a long discussion.",
    "If the results look surprising, check the measurement before you trust the conclusion.",
    "The main risk with {t} is hidden coupling, where a change in one place quietly affects another.",
    "Documentation helps too, especially a short note on why a choice was made.",
)

_HEADINGS = (
    "How it works", "A minimal example", "Things to watch for", "In practice", "Trade-offs",
    "Putting it together", "Why this matters", "A quick checklist", "Common pitfalls", "Next steps",
    "The short version", "Where to start",
)

_BULLETS = (
    "**Start small**: get the simplest version working end to end.",
    "**Measure first**: collect a baseline before changing anything.",
    "**Fail loudly**: a clear error beats a silent wrong answer.",
    "**Bound everything**: timeouts, retries and queue sizes all need limits.",
    "**Keep it observable**: log what happened and how long it took.",
    "**Test the edges**: empty input, huge input and slow responses.",
    "Keep the configuration in one place.",
    "Prefer plain data structures over clever abstractions.",
    "Make the slow path visible to the user.",
    "Write down the assumptions behind {t}.",
    "Check the behaviour when the network drops.",
    "Document the defaults and why they were chosen.",
    "Compare against a baseline under the same load.",
    "Retry with backoff, and give up after a bounded time.",
    "Use realistic data when testing anything around {t}.",
    "Review the numbers again after a week in production.",
)

_NUMBERED = (
    "Describe the problem in one sentence.",
    "Write the simplest thing that could work.",
    "Add a test that captures the expected behaviour.",
    "Measure it with realistic input.",
    "Fix the biggest bottleneck, then measure again.",
    "Write down what you learned.",
    "Decide what should happen when something fails.",
    "Roll it out gradually and watch the numbers.",
)

_CODE = (
    '''import asyncio


async def fetch_all(client, prompts, limit=5):
    """Run the prompts concurrently, at most `limit` at a time."""
    semaphore = asyncio.Semaphore(limit)

    async def one(prompt):
        async with semaphore:
            return await client.complete(prompt)

    return await asyncio.gather(*(one(p) for p in prompts))
''',
    '''import random
import time


def retry(call, attempts=5, base=0.5, cap=30.0):
    """Call `call()` until it succeeds, backing off with jitter between tries."""
    for attempt in range(attempts):
        try:
            return call()
        except TimeoutError:
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0, min(cap, base * 2 ** attempt)))
''',
    '''from dataclasses import dataclass


@dataclass
class TokenBucket:
    capacity: float
    refill_per_second: float
    level: float = 0.0

    def take(self, amount: float, elapsed: float) -> bool:
        self.level = min(self.capacity, self.level + elapsed * self.refill_per_second)
        if self.level < amount:
            return False
        self.level -= amount
        return True
''',
    '''import json
from pathlib import Path


def load_records(path: Path) -> list[dict]:
    """Read one JSON object per line, skipping blank lines."""
    records = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number}: {exc.msg}") from None
    return records
''',
    '''import statistics


def summarise(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    p99 = ordered[int(0.99 * (len(ordered) - 1))]
    return {
        "mean": statistics.fmean(ordered),
        "median": statistics.median(ordered),
        "p99": p99,
    }
''',
    '''from functools import lru_cache


@lru_cache(maxsize=1024)
def normalise(name: str) -> str:
    """Lower-case, trim and collapse whitespace, so equal names compare equal."""
    return " ".join(name.strip().lower().split())
''',
    '''def test_empty_input_gives_empty_result():
    assert summarise_batch([]) == []


def test_order_is_preserved():
    items = ["a", "b", "c"]
    assert [r.source for r in summarise_batch(items)] == items
''',
)

_TABLES = (
    "| Approach | When it fits | Cost |\n|---|---|---|\n| Fixed delay | Rare, short failures | Low |\n"
    "| Exponential backoff | Overload or rate limits | Medium |\n| Circuit breaker | Long outages | Higher |",
    "| Option | Default | Effect |\n|---|---|---|\n| `timeout` | 30 s | Gives up on a silent connection |\n"
    "| `max_retries` | 5 | Bounds the extra load |\n| `concurrency` | 4 | Caps the work in flight |",
    "| Metric | What it tells you |\n|---|---|\n| p50 latency | The typical experience |\n"
    "| p99 latency | The worst experience most users see |\n| Error rate | Whether the system is healthy |",
)

_CODE_INTROS = (
    "Here is a small example in Python:",
    "A minimal sketch looks like this:",
    "In code, that might look like:",
    "For example:",
)

# Short closing sentences of several lengths: they top a reply up to its exact token count.
_CLOSINGS = (
    "Hope that helps.",
    "That's the gist.",
    "Happy to go deeper on any of these.",
    "Let me know if you want a worked example.",
    "That should be enough to get started.",
    "If you share more details, I can be more specific.",
    "Start with the simplest version and measure from there.",
    "Those are the main points to keep in mind.",
    "Good luck!",
)
_TINY = ("Sure.", "Yes.", "Done.", "Of course.")  # a reply of a token or three

_THINKING = (
    "The user is asking about {t}, so I should explain the main idea before the details.",
    "Let me think about what matters most here.",
    "A short example would probably help, so I'll include one.",
    "I should mention the common pitfalls as well, since that's where people usually get stuck.",
    "Maybe a list of steps is clearer than a long paragraph.",
    "I need to be careful not to overstate anything.",
    "What are the edge cases? Timeouts, empty input, and very large input come to mind.",
    "It's probably worth saying why the defaults are what they are.",
    "I'll keep the answer practical and avoid too much theory.",
    "Let me check that the example actually does what I'm claiming.",
    "They might also care about performance, so a note on measuring would be useful.",
    "I think the structure should be: a short intro, the key points, an example, then a summary.",
    "Is there anything about {t} that is commonly misunderstood? Probably the interaction with retries.",
    "OK, that seems like a reasonable plan.",
)

_STOPWORDS = frozenset((
    "a an the and or but of to in on for with as by from at into about over under is are was were be been "
    "being do does did done doing have has had can could will would should shall may might must i you he she "
    "it we they me my your our their this that these those there here what which who whom whose when where "
    "why how please tell explain describe show give say write list make help let us me some any all more most "
    "much many very just also so if then than not no yes okay ok hi hey hello thanks thank work works working "
    "use using used get gets getting want need know think question number good best way ways really quite "
    "its it's i'm what's how's there's let's isn't doesn't don't can't compare summarise summarize plan "
    "define find check create build implement fix debug translate outline suggest recommend review code "
    "example examples snippet sample short long quick simple small big new old bad first last little"
).split())


# ---------------------------------------------------------------------------------------
# Templates, compiled once: a tuple of parts, each a tuple of tokens or a slot marker.

_SLOT, _SLOT_CAP, _SLOT_QUOTE = 0, 1, 4


def _compile(template: str, lead: str) -> tuple[Any, ...]:
    """``lead`` ("" or " " or "\\n\\n" etc.) goes before the first word. A slot takes the space before it."""
    parts: list[Any] = []
    text = lead + template
    for i, chunk in enumerate(re.split(r"(\{[tTq]\})", text)):
        if i % 2:
            spaced = bool(parts) and isinstance(parts[-1], tuple) and parts[-1][-1:] == (" ",)
            if spaced:
                parts[-1] = parts[-1][:-1]
            if chunk == "{q}":
                parts.append(_SLOT_QUOTE)  # glued to its quote mark: never spaced
            else:
                parts.append((_SLOT if chunk == "{t}" else _SLOT_CAP) + (2 if spaced else 0))
        elif chunk:
            parts.append(_pieces(chunk))
    return tuple(p for p in parts if p != ())


def _both(templates: Sequence[str]) -> tuple[tuple[tuple[Any, ...], ...], tuple[tuple[Any, ...], ...]]:
    """(each template starting a paragraph, each following another sentence after a space)."""
    return tuple(_compile(t, "") for t in templates), tuple(_compile(t, " ") for t in templates)


_OPEN_BARE, _ = _both(_OPENINGS)
_QUOTE_BARE = tuple(_compile(t, "") for t in _QUOTE_OPENINGS)
_SENT_BARE, _SENT_SPACED = _both(_SENTENCES)
_THINK_BARE, _THINK_SPACED = _both(_THINKING)
#: each sentence template's token count without its slots, and its slots (to size it without emitting)
_SIZES = {t: sum(len(p) for p in t if p.__class__ is tuple) for t in _SENT_BARE + _SENT_SPACED}
_SLOTS = {t: tuple(p for p in t if p.__class__ is int) for t in _SENT_BARE + _SENT_SPACED}
_SHORTEST_SENTENCE = min(_SIZES.values()) + 1  # a slot adds at least a token
_HEADING_TOKENS = tuple(_pieces(h) for h in _HEADINGS)
_BULLET_TOKENS = tuple(_compile(b, "") for b in _BULLETS)
_NUMBERED_TOKENS = tuple(_compile(b, "") for b in _NUMBERED)
_CODE_INTRO_TOKENS = tuple(_pieces(t) for t in _CODE_INTROS)


def _code_pieces(code: str) -> tuple[str, ...]:
    out: list[str] = ["```python\n"]
    for line in code.split("\n")[:-1]:
        toks = _pieces(line)
        if toks:
            out.extend(toks[:-1])
            out.append(toks[-1] + "\n")
        else:
            out.append("\n")
    out.append("```")
    return tuple(out)


_CODE_TOKENS = tuple(_code_pieces(c) for c in _CODE)
_SHORTEST_CODE = min(_CODE_TOKENS, key=len)
_TABLE_TOKENS = tuple(_code_pieces(t + "\n")[1:-1] for t in _TABLES)  # line by line, like code (no fence)
_CLOSING_TOKENS = tuple(sorted((_pieces(" " + c) for c in _CLOSINGS), key=len))
_CLOSING_BARE = tuple(sorted((_pieces(c) for c in _CLOSINGS + _TINY), key=len))
_CLOSING_PARA = tuple(sorted((_pieces(c) for c in _CLOSINGS), key=len))  # a paragraph of its own
_PARA = "\n\n"


# ---------------------------------------------------------------------------------------
# Building replies.

def _blocks(content: Any) -> Any:
    """Content as a list of blocks without ``cache_control``: the API reads ``"content": "x"`` as
    ``[{"type": "text", "text": "x"}]`` and a breakpoint changes billing, not the reply. Measured:
    litellm sends the list form, the SDK the string, and both must get the same reply."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [{k: v for k, v in b.items() if k != "cache_control"} if isinstance(b, dict) else b for b in content]
    return content


def request_rng(seed: int, body: dict[str, Any]) -> random.Random:
    """A Random seeded from the simulator seed and the prompt's meaning (not its id, timing or encoding)."""
    messages = body.get("messages")
    if isinstance(messages, list):
        messages = [{"role": m.get("role"), "content": _blocks(m.get("content"))} if isinstance(m, dict) else m
                    for m in messages]
    system = body.get("system")
    key = json.dumps(
        [seed, body.get("model"), _blocks(system) if system else None, messages, body.get("thinking")],
        sort_keys=True, separators=(",", ":"), default=str,
    ).encode()
    return random.Random(int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big"))


def draw_length(rng: random.Random, mean_tokens: int, fixed: bool) -> int:
    """Reply length: exactly ``mean_tokens`` when fixed, else log-normal around it (σ≈0.35)."""
    if fixed:
        return mean_tokens
    n = int(round(mean_tokens * math.exp(rng.gauss(0.0, 0.35))))
    return max(min(8, mean_tokens), min(n, mean_tokens * 3))


_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'-]*")


def topic_words(body: dict[str, Any]) -> str:
    """The prompt's topic: the longest run (≤ 2) of content words in the last user message's text."""
    messages = body.get("messages") or []
    for msg in reversed(messages):
        if isinstance(msg, dict) and msg.get("role") == "user":
            content = msg.get("content")
            if isinstance(content, list):
                content = " ".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")
            words = _WORD.findall(str(content)[:400])[:40]
            best: list[str] = []
            best_score = (0, False)
            run: list[str] = []
            for i, word in enumerate(words + [""]):
                if word and word.lower() not in _STOPWORDS and len(word) > 1:
                    run.append(word if (i or word.isupper()) else word.lower())
                    continue
                # the longest run; among equals a name (capitalised mid-sentence), else the first
                score = (len(run[:2]), any(w[:1].isupper() for w in run[:2]))
                if run and score > best_score:
                    best, best_score = run[:2], score
                run = []
            return " ".join(best) if best else "this"
    return "this"


class _Topic:
    """The topic's tokens in the four shapes a slot needs (bare / spaced × as-is / capitalised), and
    the short prompt for a quoting opening (empty when the prompt is too long to restate)."""

    __slots__ = ("shapes",)

    def __init__(self, topic: str, quote: str = "") -> None:
        bare, spaced = _pieces(topic), _pieces(" " + topic)
        if topic[:1].islower():  # {T}: only then does capitalising change anything
            cap = topic[:1].upper() + topic[1:]
            self.shapes = (bare, _pieces(cap), spaced, _pieces(" " + cap), _pieces(quote) if quote else ())
        else:
            self.shapes = (bare, bare, spaced, spaced, _pieces(quote) if quote else ())


def _emit(out: list[str], template: tuple[Any, ...], topic: _Topic) -> None:
    extend = out.extend
    shapes = topic.shapes
    for part in template:
        if part.__class__ is int:
            extend(shapes[part])
        else:
            extend(part)


class ReplyWriter:
    """Writes one reply's tokens from a request-seeded Random, unit by unit (a unit ends cleanly)."""

    __slots__ = ("rng", "out", "topic", "_order", "_next", "_codes", "wants_code")

    def __init__(self, rng: random.Random, topic: str, quote: str = "") -> None:
        self.rng = rng
        self.out: list[str] = []
        self.topic = _Topic(topic, quote)
        n = len(_SENTENCES)
        # visit the sentences in a seeded order with no repeats until all have been used
        self._order = (rng.randrange(n), rng.choice((1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)))
        self._next = 0
        self._codes = 0
        self.wants_code = False

    def _sentence(self, spaced: bool) -> None:
        self._next_into(self.out, spaced)

    def paragraph(self, lo: int = 2, hi: int = 4) -> None:
        for i in range(self.rng.randint(lo, hi)):
            self._sentence(spaced=i > 0)

    def heading(self) -> None:
        out = self.out
        toks = self.rng.choice(_HEADING_TOKENS)
        out.append("## " + toks[0])
        out.extend(toks[1:])
        out.append(_PARA)
        self.paragraph(1, 3)

    def bullets(self, numbered: bool) -> None:
        rng, out = self.rng, self.out
        pool = _NUMBERED_TOKENS if numbered else _BULLET_TOKENS
        items = rng.sample(range(len(pool)), rng.randint(3, 4))
        if numbered:
            items.sort()  # steps keep their natural order
        for n, i in enumerate(items):
            out.append(("\n" if n else "") + (f"{n + 1}. " if numbered else "- "))
            _emit(out, pool[i], self.topic)

    def code(self, room: int) -> None:
        """An intro line and a Python block: the next snippet in the seeded order that fits ``room``
        (the shortest when none does), so no snippet comes twice in a row."""
        out = self.out
        out.extend(self.rng.choice(_CODE_INTRO_TOKENS))
        out.append(_PARA)
        start, _stride = self._order
        n = len(_CODE_TOKENS)
        order = [_CODE_TOKENS[(start + self._codes + k) % n] for k in range(n)]
        out.extend(next((c for c in order if len(c) + 8 <= room), _SHORTEST_CODE))
        self._codes += 1

    def build(self, n_tokens: int, clean_end: bool) -> list[str]:
        """Exactly ``n_tokens`` tokens. ``clean_end``: the reply ends after a whole unit (no open
        fence, no half sentence), topped up to the exact length with short closing sentences; else
        it is cut mid-word at ``n_tokens``, like a reply stopped by ``max_tokens``."""
        rng, out = self.rng, self.out
        _emit(out, rng.choice(_QUOTE_BARE if self.topic.shapes[_SLOT_QUOTE] else _OPEN_BARE), self.topic)
        ends = [(len(out), "paragraph")]  # where each whole unit ends, and its kind (the opening first)
        if rng.random() < 0.7:
            self._sentence(spaced=True)
        kinds = ("paragraph", "paragraph", "paragraph", "heading", "bullets", "numbered", "code", "paragraph",
                 "heading", "bullets", "table")
        last = "paragraph"
        ends.append((len(out), "paragraph"))
        while len(out) < n_tokens:
            kind = rng.choice(kinds)
            if self.wants_code and not self._codes and n_tokens - len(out) >= 70:
                kind = "code"
            elif (kind == last and kind != "paragraph") or (kind in ("code", "table") and (
                    self._codes * 500 > len(out) or n_tokens - len(out) < 80)):
                kind = "paragraph"  # no two lists in a row; code at most every ~500 tokens, and only with room
            out.append(_PARA)
            if kind == "paragraph":
                self.paragraph()
            elif kind == "heading":
                self.heading()
            elif kind in ("bullets", "numbered"):
                self.bullets(kind == "numbered")
            elif kind == "table":
                tokens = rng.choice(_TABLE_TOKENS)
                out.extend(tokens[:-1])
                out.append(tokens[-1].rstrip("\n"))
            else:
                self.code(n_tokens - len(out))
            last = kind
            ends.append((len(out), kind))
        if not clean_end:
            del out[n_tokens:]
            return out
        keep, kind = max((e for e in ends if e[0] <= n_tokens), default=(0, "paragraph"))
        del out[keep:]
        self._top_up(n_tokens, after_block=kind not in ("paragraph", "heading"))
        return out

    def _top_up(self, n_tokens: int, after_block: bool = False) -> None:
        """Bring a cleanly ended reply (≤ n_tokens) to exactly ``n_tokens`` without changing how it
        reads: a closing paragraph of whole sentences that fit, one short closing sentence, then the
        last tokens split into smaller pieces (the text is unchanged; only its grouping)."""
        out = self.out
        if len(out) + 8 <= n_tokens:  # room for a closing paragraph
            sep = bool(out)
            if sep:
                out.append(_PARA)
            first = True
            shapes = self.topic.shapes
            start, stride = self._order
            for _ in range(len(_SENTENCES)):
                i = (start + self._next * stride) % len(_SENTENCES)
                self._next += 1
                template = (_SENT_BARE if first else _SENT_SPACED)[i]
                size = _SIZES[template] + sum(len(shapes[p]) for p in _SLOTS[template])  # without emitting it
                if len(out) + size <= n_tokens:
                    _emit(out, template, self.topic)
                    first = False
                if n_tokens - len(out) < _SHORTEST_SENTENCE:
                    break
            if first and sep:
                out.pop()
            else:
                after_block = False
        room = n_tokens - len(out)
        closings = _CLOSING_TOKENS if out else _CLOSING_BARE
        if after_block:  # a list, table or code block ends the reply: a closing needs its own paragraph
            closings, room = _CLOSING_PARA, room - 1
        fits = [c for c in closings if len(c) <= room]
        if fits:
            if after_block:
                out.append(_PARA)
            out.extend(fits[-1])
        _fit(out, n_tokens)

    def _next_into(self, target: list[str], spaced: bool) -> None:
        start, stride = self._order
        i = (start + self._next * stride) % len(_SENTENCES)
        self._next += 1
        _emit(target, (_SENT_SPACED if spaced else _SENT_BARE)[i], self.topic)


_CODE_WORDS = re.compile(r"\b(code|example|python|function|script|snippet|implement\w*)\b", re.I)


def _last_user_text(body: dict[str, Any]) -> str:
    for msg in reversed(body.get("messages") or []):
        if isinstance(msg, dict) and msg.get("role") == "user":
            content = msg.get("content")
            if isinstance(content, list):
                return " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
            return str(content)
    return ""


def _fit(out: list[str], n_tokens: int) -> None:
    """Exactly ``n_tokens`` without changing the text: split the last pieces ("helps." -> "hel", "ps.")
    or, for a reply of a token or two, join them."""
    while len(out) < n_tokens:  # split the longest of the last pieces
        tail = max(0, len(out) - 24)
        i = max(range(tail, len(out)), key=lambda k: (len(out[k]), k), default=-1)
        tok = out[i] if i >= 0 else ""
        if len(tok) < 2:
            break  # not enough characters left near the end (never for real replies)
        half = len(tok) // 2
        out[i:i + 1] = [tok[:half], tok[half:]]
    while len(out) > max(n_tokens, 1):
        out[-2:] = [out[-2] + out[-1]]


def reply_tokens(rng: random.Random, n_tokens: int, body: dict[str, Any], *, clean_end: bool) -> list[str]:
    """The text block's tokens: exactly ``n_tokens`` of them. A prompt asking for code gets a code
    block early, when there is room for one."""
    prompt = " ".join(_last_user_text(body).split())
    quote = prompt if 0 < len(prompt) <= 60 and '"' not in prompt else ""
    writer = ReplyWriter(rng, topic_words(body), quote)
    writer.wants_code = _CODE_WORDS.search(_last_user_text(body)[:2000]) is not None
    return writer.build(n_tokens, clean_end)


_PREFACES = (
    "I'll use {tools} to look that up.",
    "Let me check that with {tools}.",
    "I'll call {tools} first, then answer.",
    "Let me get the details with {tools}.",
    "Checking.",
)


def preface_tokens(rng: random.Random, n_tokens: int, tool_names: Sequence[str]) -> list[str]:
    """The short text before a tool call under ``tool_choice: auto`` ("Let me check that with
    `get_weather`."): exactly ``n_tokens`` tokens, the longest sentence that fits, split to size."""
    names = [f"`{name}`" for name in tool_names]
    tools = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    options = sorted((_pieces(p.format(tools=tools)) for p in _PREFACES), key=len, reverse=True)
    fits = [o for o in options[:-1] if len(o) <= n_tokens]  # "Checking." only when nothing else fits
    out = list(rng.choice(fits[:2]) if fits else options[-1])
    _fit(out, n_tokens)
    return out


def thinking_tokens(rng: random.Random, n_tokens: int, body: dict[str, Any] | None = None) -> list[str]:
    """Plain, unstyled reasoning prose: exactly ``n_tokens`` tokens."""
    topic = _Topic(topic_words(body) if body is not None else "this")
    out: list[str] = []
    n = len(_THINKING)
    start = rng.randrange(n)
    k = 0
    while len(out) < n_tokens:
        i = (start + k) % n
        if k and k % n == 0:
            out.append(_PARA)
        _emit(out, (_THINK_SPACED if k % n else _THINK_BARE)[i], topic)
        k += 1
    del out[n_tokens:]
    return out


def signature(rng: random.Random) -> str:
    """An opaque, base64-looking thinking signature."""
    return base64.b64encode(rng.randbytes(96)).decode()
