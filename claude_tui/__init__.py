"""claude-tui: tabs of streaming Claude chats over one bounded request pool."""

__version__ = "0.1.0"
