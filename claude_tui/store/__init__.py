"""SQLite history: conversations, messages and per-attempt request records.

See docs/config-and-history.md. Nothing here creates files on import.
"""

from .db import HistoryError, HistoryStore
from ..engine.percentiles import percentile
from .models import Attempt, Branch, Conversation, ConversationSummary, Message, Percentiles, SearchHit, StatsRow
from .recorder import HistoryRecorder
from .writer import StreamingWriter

__all__ = [
    "Attempt",
    "Branch",
    "Conversation",
    "ConversationSummary",
    "HistoryError",
    "HistoryRecorder",
    "HistoryStore",
    "Message",
    "Percentiles",
    "SearchHit",
    "StatsRow",
    "StreamingWriter",
    "percentile",
]
