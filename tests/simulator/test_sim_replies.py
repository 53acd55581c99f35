"""Replies read as plausible prose about the prompt (issue #13's screenshots), with exact token counts."""

from __future__ import annotations

import re
from typing import Any

import anthropic
from sim_helpers import MODEL, client_for

from claude_tui.simulator import Simulator
from claude_tui.simulator.replies import reply_tokens, request_rng, thinking_tokens, topic_words

PROMPTS = ("How do token buckets refill?", "Explain exponential backoff with jitter",
           "What should I wear in Paris?", "Summarise the release notes", "hi")


def _body(prompt: str) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": prompt}]}


def test_the_topic_is_the_prompts_content_words() -> None:
    assert topic_words(_body("How do token buckets refill?")) == "token buckets"
    assert topic_words(_body("Explain exponential backoff with jitter")) == "exponential backoff"
    assert topic_words(_body("What should I wear in Paris?")) == "Paris"
    assert topic_words(_body("hi")) == "this"


def test_a_reply_is_whole_sentences_of_real_words_naming_the_topic() -> None:
    for prompt in PROMPTS:
        for seed in range(10):
            text = "".join(reply_tokens(request_rng(seed, _body(prompt)), 250, _body(prompt), clean_end=True))
            prose = re.sub(r"```.*?```", "", text, flags=re.S)
            prose = "\n".join(line for line in prose.splitlines() if not line.startswith("|"))
            # every paragraph ends a sentence (or is a heading / list item, which end their own line)
            for para in filter(None, (p.strip() for p in prose.split("\n\n"))):
                last = para.splitlines()[-1]
                assert last.startswith(("## ", "- ", "1.", "2.", "3.", "4.")) or last[-1] in ".!?:", (prompt, para)
            assert text.count("```") % 2 == 0  # no fence left open
            topic = topic_words(_body(prompt))
            if topic != "this":
                assert topic in text


def test_markdown_appears_sometimes_not_always() -> None:
    texts = ["".join(reply_tokens(request_rng(seed, _body(PROMPTS[0])), 300, _body(PROMPTS[0]), clean_end=True))
             for seed in range(30)]
    for marker in ("\n## ", "\n- ", "\n1. ", "```python\n", "\n|---"):
        assert any(marker in t for t in texts), marker
    plain = [t for t in texts if not any(m in t for m in ("\n## ", "\n- ", "\n1. ", "```", "|---"))]
    assert plain, "every reply had Markdown: it should be 'sometimes'"
    code = next(t for t in texts if "```python\n" in t)
    snippet = code.split("```python\n", 1)[1].split("```", 1)[0]
    compile(snippet, "<reply>", "exec")  # real-looking Python is real Python


def test_token_counts_are_exact_for_every_length() -> None:
    body = _body(PROMPTS[1])
    for n in list(range(1, 120)) + [299, 300, 301, 1000]:
        for clean in (True, False):
            tokens = reply_tokens(request_rng(n, body), n, body, clean_end=clean)
            assert len(tokens) == n and all(tokens), (n, clean)
        assert len(thinking_tokens(request_rng(n, body), n, body)) == n


def test_the_prompts_encoding_does_not_change_the_reply() -> None:
    as_string = _body("How do token buckets refill?")
    as_blocks = {"model": MODEL, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "How do token buckets refill?", "cache_control": {"type": "ephemeral"}}]}]}
    a = reply_tokens(request_rng(0, as_string), 200, as_string, clean_end=True)
    assert a == reply_tokens(request_rng(0, as_blocks), 200, as_blocks, clean_end=True)


async def test_usage_counts_the_streamed_prose(make_sim: Any) -> None:
    sim: Simulator = await make_sim(reply_tokens=400, fixed_length=False)
    async with client_for(sim) as client:
        for prompt in PROMPTS:
            deltas = 0
            async with client.messages.stream(model=MODEL, max_tokens=2000,
                                              messages=[{"role": "user", "content": prompt}]) as stream:
                async for event in stream:
                    if event.type == "content_block_delta":
                        deltas += 1
                message = await stream.get_final_message()
            assert message.stop_reason == "end_turn"
            assert sim.request_log[-1].output_tokens == message.usage.output_tokens
            assert deltas <= message.usage.output_tokens <= 4 * deltas  # 1–4 tokens a delta
            cut = await client.messages.create(model=MODEL, max_tokens=37, messages=[{"role": "user", "content": prompt}])
            assert isinstance(cut.content[0], anthropic.types.TextBlock)
            assert cut.stop_reason == "max_tokens" and cut.usage.output_tokens == 37


def test_a_prompt_asking_for_code_gets_a_code_block() -> None:
    body = _body("Show me a Python example of retries with backoff")
    for seed in range(10):
        text = "".join(reply_tokens(request_rng(seed, body), 300, body, clean_end=True))
        assert "```python\n" in text and text.count("```") == 2


def test_a_short_prompt_is_restated_in_the_opening() -> None:
    """The UI tests tell which tab a reply went to by finding the prompt in it."""
    for prompt in ("hello from tab two", "typed at once", "How do token buckets refill?"):
        for seed in range(5):
            text = "".join(reply_tokens(request_rng(seed, _body(prompt)), 40, _body(prompt), clean_end=True))
            assert f'"{prompt}"' in text.split("\n")[0]
    long_prompt = "Please explain, in detail, how exponential backoff interacts with token bucket rate limits"
    text = "".join(reply_tokens(request_rng(0, _body(long_prompt)), 200, _body(long_prompt), clean_end=True))
    assert long_prompt not in text and "exponential backoff" in text
