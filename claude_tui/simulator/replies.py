"""Deterministic, Markdown-rich replies, produced as a list of "tokens" (short word pieces).

Everything expensive (tokenizing the vocabulary, code snippets, links) happens once at
import; building a reply is then a few random choices per word, so a benchmark can push
tens of thousands of tokens a second through it. The same seed and request give the same
reply, token for token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import re
from typing import Any

# ---------------------------------------------------------------------------------------
# Vocabulary, tokenized once.

_WORDS = (
    "the a an of to and in for on with as by from that this it is are be can will should "
    "request response stream token tokens latency throughput queue worker pool limit bucket "
    "retry backoff header model reply prompt event events server client buffer window budget "
    "timeout deadline cache message messages first last next each every many few more less "
    "simple careful explicit small large fast slow steady bounded concurrent parallel serial "
    "measure compare check keep send read write parse render count report return handle "
    "configure schedule cancel resume start finish wait sleep emit collect update store load "
    "system engine layer interface function method class module package library terminal "
    "table column row value field option default setting result error failure success case "
    "data input output text chunk delta usage cost price estimate percentile median mean "
    "because when while after before until unless although however therefore instead also "
    "only often usually rarely always never roughly exactly clearly quickly gradually "
    "approach pattern design tradeoff constraint guarantee invariant boundary contract "
    "important useful practical reasonable robust predictable observable deterministic"
).split()

_THINK_WORDS = (
    "the user wants to know about this so I should consider what matters most here "
    "first let me think through whether it is clear enough and maybe give an example "
    "also check edge cases like limits retries and timing then structure the answer "
    "with a short intro a list of points some code and a table to compare options "
    "I need to be careful not to overstate anything and keep it practical"
).split()

_HEADINGS = (
    "Overview", "How it works", "Key points", "An example", "Trade-offs", "Details",
    "Step by step", "What to watch for", "Putting it together", "Summary", "Background",
    "Configuration", "Measuring it", "Common pitfalls", "Next steps",
)

_LINKS = (
    ("the docs", "https://docs.example.com/guide/streaming"),
    ("this overview", "https://example.org/articles/token-buckets"),
    ("the reference", "https://docs.example.com/api/messages"),
    ("a longer write-up", "https://blog.example.net/posts/backoff-and-jitter"),
)

_CODE = (
    ("python", 'import asyncio\n\nasync def fetch(client, prompt):\n    async with client.messages.stream(\n'
               '        model="claude-sonnet-4-6",\n        max_tokens=1024,\n'
               '        messages=[{"role": "user", "content": prompt}],\n    ) as stream:\n'
               '        return await stream.get_final_message()\n'),
    ("python", 'def backoff(attempt: int, base: float = 0.5, cap: float = 30.0) -> float:\n'
               '    """Exponential backoff with a ceiling."""\n    return min(cap, base * 2 ** attempt)\n'),
    ("bash", 'export ANTHROPIC_API_KEY=sk-example\ncurl -s https://api.example.com/v1/messages \\\n'
             '  -H "content-type: application/json" \\\n  -d @request.json | jq .usage\n'),
    ("json", '{\n  "model": "claude-haiku-4-5",\n  "max_tokens": 512,\n  "stream": true,\n'
             '  "messages": [{"role": "user", "content": "Hello"}]\n}\n'),
    ("rust", 'fn tokens_per_second(tokens: u64, secs: f64) -> f64 {\n    if secs <= 0.0 {\n'
             '        return 0.0;\n    }\n    tokens as f64 / secs\n}\n'),
    ("typescript", 'const limiter = new TokenBucket({ capacity: 50, refillPerSecond: 50 / 60 });\n'
                   'await limiter.take(1);\nconst reply = await client.messages.create(params);\n'),
    ("sql", 'SELECT model, count(*) AS requests, avg(latency_ms) AS mean_latency\nFROM history\n'
            'GROUP BY model\nORDER BY requests DESC;\n'),
)

_TABLE_HEADS = (
    ("Setting", "Default", "Effect"),
    ("Approach", "Latency", "Notes"),
    ("Metric", "Value", "Meaning"),
    ("Option", "When to use", "Cost"),
)

_PIECE = 4  # characters per token, roughly what the real tokenizer averages on English


def _pieces(text: str) -> tuple[str, ...]:
    """Split text into ~4-character tokens, a leading space staying with its word."""
    out: list[str] = []
    for word in re.findall(r"\s*\S+|\s+", text):
        lead = len(word) - len(word.lstrip())
        core = word[lead:]
        first = word[: lead + _PIECE] if len(core) > _PIECE + 1 else word
        out.append(first)
        rest = word[len(first):]
        for i in range(0, len(rest), _PIECE):
            out.append(rest[i:i + _PIECE])
    return tuple(out)


_SPACED = {w: _pieces(" " + w) for w in _WORDS}
_CAPITAL = {w: _pieces(w[0].upper() + w[1:]) for w in _WORDS}
_THINK_SPACED = {w: _pieces(" " + w) for w in _THINK_WORDS}
_THINK_CAPITAL = {w: _pieces(w[0].upper() + w[1:]) for w in _THINK_WORDS}
_HEADING_TOKENS = tuple(_pieces(h) for h in _HEADINGS)
_LINK_TOKENS = tuple(("[",) + _pieces(label) + ("](",) + _pieces(url) + (")",) for label, url in _LINKS)


def _code_pieces(code: str) -> tuple[str, ...]:
    out: list[str] = []
    for line in code.split("\n")[:-1]:
        toks = _pieces(line)
        if toks:
            out.extend(toks[:-1])
            out.append(toks[-1] + "\n")
        else:
            out.append("\n")
    return tuple(out)


_SNIPPETS = tuple((lang, _code_pieces(code)) for lang, code in _CODE)
_TABLE_HEAD_TOKENS = tuple(
    tuple(t for cell in head for t in ("| ",) + _pieces(cell) + (" ",)) + ("|\n",) + ("|---" * len(head), "|\n")
    for head in _TABLE_HEADS
)
_FENCE_CLOSE = "\n```"


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


class ReplyWriter:
    """Writes one reply's tokens from a request-seeded Random."""

    __slots__ = ("rng", "out")

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.out: list[str] = []

    # -- inline -----------------------------------------------------------------------
    def _sentence(self, lo: int = 6, hi: int = 16, capital: dict = _CAPITAL, spaced: dict = _SPACED,
                  words: tuple | list = _WORDS, styled: bool = True) -> None:
        rng, out = self.rng, self.out
        choice = rng.choice
        n = rng.randint(lo, hi)
        out.extend(capital[choice(words)])
        for i in range(n - 1):
            r = rng.random()
            if styled and r < 0.06:
                style = choice(("**", "*", "`"))
                toks = _pieces(style + choice(words) + style) if style != "`" else _pieces("`" + choice(words) + "`")
                out.append(" " + toks[0])
                out.extend(toks[1:])
            elif styled and r < 0.075:
                out.append(" ")
                out.extend(choice(_LINK_TOKENS))
            else:
                out.extend(spaced[choice(words)])
            if r > 0.96 and i < n - 3:
                out[-1] += ","
        out[-1] += choice((".", ".", ".", ".", "!", "?")) if styled else "."

    def paragraph(self) -> None:
        for i in range(self.rng.randint(2, 4)):
            if i:
                self.out.append(" ")
            self._sentence()

    # -- blocks -------------------------------------------------------------------------
    def heading(self) -> None:
        toks = self.rng.choice(_HEADING_TOKENS)
        self.out.append(self.rng.choice(("## ", "### ")) + toks[0])
        self.out.extend(toks[1:])

    def bullets(self, numbered: bool) -> None:
        rng, out = self.rng, self.out
        for i in range(rng.randint(3, 5)):
            out.append(("\n" if i else "") + (f"{i + 1}. " if numbered else "- "))
            self._sentence(3, 9)

    def code(self) -> None:
        lang, toks = self.rng.choice(_SNIPPETS)
        self.out.append("```" + lang + "\n")
        self.out.extend(toks)
        self.out.append("```")

    def table(self) -> None:
        rng, out = self.rng, self.out
        head = rng.choice(_TABLE_HEAD_TOKENS)
        out.extend(head)
        cols = head.count("| ")
        for r in range(rng.randint(2, 4)):
            for _ in range(cols):
                out.append("| ")
                out.extend(_CAPITAL[rng.choice(_WORDS)])
                if rng.random() < 0.5:
                    out.extend(_SPACED[rng.choice(_WORDS)])
                out.append(" ")
            out.append("|\n")
        out[-1] = "|"

    def quote(self) -> None:
        self.out.append("> ")
        self._sentence(8, 18)

    def intro(self, topic: tuple[str, ...]) -> None:
        if topic:
            self.out.extend(("You", " asked", " about", " *"))
            self.out.extend(topic)
            self.out.append("*.")
            self.out.append(" ")
        self._sentence()

    def build(self, n_tokens: int, topic: tuple[str, ...] = ()) -> list[str]:
        """At least ``n_tokens`` tokens of Markdown, then cut to exactly ``n_tokens``."""
        rng, out = self.rng, self.out
        self.intro(topic)
        kinds = ("heading", "paragraph", "paragraph", "bullets", "numbered", "code", "table", "quote")
        last = "paragraph"
        while len(out) < n_tokens:
            kind = rng.choice(kinds)
            if kind == last or (kind == "heading" and last == "heading"):
                kind = "paragraph" if last != "paragraph" else "heading"
            out.append("\n\n")
            if kind == "heading":
                self.heading()
                out.append("\n\n")
                self.paragraph()
            elif kind == "paragraph":
                self.paragraph()
            elif kind in ("bullets", "numbered"):
                self.bullets(kind == "numbered")
            elif kind == "code":
                self.code()
            elif kind == "table":
                self.table()
            else:
                self.quote()
            last = kind
        del out[n_tokens:]
        return out


def finish_cleanly(tokens: list[str]) -> None:
    """Make a reply cut at its target length read as finished (close a fence, end the sentence)."""
    if not tokens:
        return
    fences = sum(1 for t in tokens if "```" in t)
    if fences % 2:
        tokens[-1] = "\n\nThat's it." if tokens[-1].startswith("```") else _FENCE_CLOSE
    elif not tokens[-1].strip():
        tokens[-1] = "\n\nThat's it."
    elif tokens[-1][-1:] not in (".", "!", "?", "\n", "|", ")", "`"):
        tokens[-1] += "."


def topic_of(body: dict[str, Any]) -> tuple[str, ...]:
    """A few words of the last user message, tokenized, for the reply's opening line."""
    messages = body.get("messages") or []
    for msg in reversed(messages):
        if isinstance(msg, dict) and msg.get("role") == "user":
            content = msg.get("content")
            if isinstance(content, list):
                content = " ".join(b.get("text", "") for b in content if isinstance(b, dict))
            words = re.findall(r"[A-Za-z0-9][A-Za-z0-9'-]*", str(content))[:6]
            if words:
                return _pieces(" ".join(words))
            return ()
    return ()


def reply_tokens(rng: random.Random, n_tokens: int, body: dict[str, Any], *, clean_end: bool) -> list[str]:
    """The text block's tokens: exactly ``n_tokens`` of them."""
    tokens = ReplyWriter(rng).build(n_tokens, topic_of(body))
    if clean_end:
        finish_cleanly(tokens)
    return tokens


def thinking_tokens(rng: random.Random, n_tokens: int) -> list[str]:
    """Plain, unstyled reasoning prose: exactly ``n_tokens`` tokens."""
    w = ReplyWriter(rng)
    out = w.out
    while len(out) < n_tokens:
        if out:
            out.append("\n\n" if rng.random() < 0.25 else " ")
        w._sentence(6, 14, _THINK_CAPITAL, _THINK_SPACED, _THINK_WORDS, styled=False)
    del out[n_tokens:]
    return out


def signature(rng: random.Random) -> str:
    """An opaque, base64-looking thinking signature."""
    return base64.b64encode(rng.randbytes(96)).decode()
