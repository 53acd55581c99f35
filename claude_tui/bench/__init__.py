"""``claude-tui bench``: engine benchmarks against the simulator (see BENCHMARKS.md).

Modules: ``cli`` (argparse, import-light), ``scenarios`` (table, scaling, rate-limit, faults),
``guide`` (the guide's approach, the baseline), ``engine_run`` (claude-tui rows through the
RequestPool and Metrics), ``simproc`` (the simulator in a separate process), ``measure``
(Little's law, percentiles, rows) and ``report`` (tables and JSON).
"""
