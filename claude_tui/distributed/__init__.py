"""One job, many workers: prompts on a Redis Stream, results written once per prompt.

``layout`` names the keys and holds the atomic scripts; ``submit`` is `run --distribute`
(enqueue once, collect results into ``--out``); ``worker`` is `claude-tui worker`. See
docs/workers.md for the delivery semantics.
"""
