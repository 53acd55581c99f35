"""ChatTabs: Textual's ``TabbedContent`` that a stale focus message cannot switch back."""

from __future__ import annotations

from textual.widgets import TabbedContent, TabPane


class ChatTabs(TabbedContent):
    """The app's tab strip and panes.

    ``TabbedContent`` activates a pane when one of its widgets is focused, by a message that arrives
    after the focus moved. When keys switch tabs faster than that message travels (Ctrl+T, then
    Ctrl+PageDown at once), the late message for the tab just left switched it back: the screen
    showed one tab while the keys went to another. A pane is activated only if it still holds the focus.
    """

    def _on_tab_pane_focused(self, event: TabPane.Focused) -> None:
        focused = self.screen.focused
        if focused is None or event.tab_pane not in focused.ancestors_with_self:
            event.stop()
            event.prevent_default()  # TabbedContent's own handler would activate the stale pane
