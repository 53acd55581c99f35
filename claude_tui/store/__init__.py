"""SQLite history: conversations, messages and per-attempt request records.

See docs/config-and-history.md. Nothing here creates files on import.
"""

from .db import HistoryError, HistoryStore
from .models import Attempt, Conversation, ConversationSummary, Message, Percentiles, SearchHit, StatsRow, percentile
from .recorder import HistoryRecorder, HistoryTag
from .writer import StreamingWriter

__all__ = [
    "Attempt",
    "Conversation",
    "ConversationSummary",
    "HistoryError",
    "HistoryRecorder",
    "HistoryStore",
    "HistoryTag",
    "Message",
    "Percentiles",
    "SearchHit",
    "StatsRow",
    "StreamingWriter",
    "percentile",
]
