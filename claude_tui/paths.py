"""Where claude-tui keeps its files, from platformdirs (so ``XDG_*`` variables move them on Linux).

Nothing here creates anything on import; the ``ensure_*`` helpers create directories (mode 0700)
when the app actually needs them. Every function reads the environment when called, so tests
that set ``XDG_CONFIG_HOME`` and friends see the new locations at once.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "claude-tui"
CONFIG_FILENAME = "config.toml"
HISTORY_FILENAME = "history.db"
LOG_FILENAME = "claude-tui.log"
#: Overrides the config file's location (a path to the file itself).
CONFIG_ENV = "CLAUDE_TUI_CONFIG"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def config_file(env: "os._Environ[str] | dict[str, str] | None" = None) -> Path:
    """The config file: ``$CLAUDE_TUI_CONFIG`` if set, else ``<user_config_dir>/config.toml``."""
    env = os.environ if env is None else env
    override = env.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    return config_dir() / CONFIG_FILENAME


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def history_db() -> Path:
    return data_dir() / HISTORY_FILENAME


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def log_file() -> Path:
    return log_dir() / LOG_FILENAME


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if missing; a directory we create is private (0700)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def ensure_config_dir() -> Path:
    return ensure_dir(config_dir())


def ensure_data_dir() -> Path:
    return ensure_dir(data_dir())


def ensure_log_dir() -> Path:
    return ensure_dir(log_dir())


def ensure_dirs() -> None:
    """What a first run creates: the config directory and the data directory (the database
    itself is created by ``HistoryStore.open``). The log directory appears only when something
    is logged."""
    ensure_config_dir()
    ensure_data_dir()
