"""Configuration: one declaration per setting (``specs.py``), and everything derived from it.

    specs.py     the settings (``Settings`` and its tables) and ``SPECS`` — start here to add one
    validate.py  types, ranges and string rules; one-line messages
    load.py      TOML file + environment + flags, with precedence: ``load_settings``
    flags.py     the ``chat``/``run`` argparse flags
    explain.py   ``config show`` and ``config init``
    errors.py    ``ConfigError``

Imports neither Textual, the SDK nor aiohttp (``--help`` builds the flags from it).
"""

from __future__ import annotations

from .errors import ConfigError
from .explain import default_config_text, render_settings, write_default_config
from .flags import add_setting_flags, flag_dest, overrides_from_namespace
from .load import key_lines, load_settings
from .specs import PRICES_HELP, SPEC_BY_KEY, SPECS, TABLES, LimitSettings, PriceSetting, RetrySettings, Settings, SimulatorSettings, Spec
from .validate import show as _show

__all__ = [
    "ConfigError",
    "PRICES_HELP",
    "PriceSetting",
    "LimitSettings",
    "RetrySettings",
    "SPECS",
    "SPEC_BY_KEY",
    "Settings",
    "SimulatorSettings",
    "Spec",
    "TABLES",
    "add_setting_flags",
    "default_config_text",
    "flag_dest",
    "key_lines",
    "load_settings",
    "overrides_from_namespace",
    "render_settings",
    "write_default_config",
]
