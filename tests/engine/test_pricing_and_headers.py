from claude_tui.engine.events import Usage
from claude_tui.engine.pricing import Price, PriceTable
from claude_tui.engine.ratelimits import parse_rate_limits, parse_retry_after


def test_list_prices_and_prefix_lookup() -> None:
    table = PriceTable()
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert table.cost("claude-sonnet-4-6", usage) == 18.0
    assert table.cost("claude-haiku-4-5-20261001", usage) == 6.0  # dated id finds its family
    assert table.cost("gpt-unknown", usage) is None


def test_cache_tokens_and_overrides() -> None:
    table = PriceTable({"claude-sonnet-4-6": Price(2, 10)})
    usage = Usage(cache_creation_input_tokens=1_000_000, cache_read_input_tokens=1_000_000)
    assert table.cost("claude-sonnet-4-6", usage) == 2 * 1.25 + 2 * 0.1


def test_rate_limit_headers_parse() -> None:
    headers = {
        "request-id": "req_abc",
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "49",
        "anthropic-ratelimit-requests-reset": "2026-11-24T20:00:01Z",
        "anthropic-ratelimit-output-tokens-limit": "20000",
        "retry-after": "3",
    }
    snap = parse_rate_limits(headers)
    assert snap.request_id == "req_abc"
    assert (snap.requests_limit, snap.requests_remaining) == (50, 49)
    assert snap.requests_reset == 1795550401.0
    assert snap.output_tokens_limit == 20000 and snap.tokens_limit is None
    assert snap.retry_after == 3.0


def test_retry_after_ms_wins() -> None:
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "2"}) == 1.5
    assert parse_retry_after({"retry-after": "junk"}) is None
