import gc

from claude_tui.gc_policy import CollectorPolicy


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_freezes_while_busy_and_collects_once_when_idle() -> None:
    clock = Clock()
    policy = CollectorPolicy(idle_after=2.0, clock=clock)
    try:
        policy.tick(busy=True)
        assert gc.get_freeze_count() > 0  # long-lived objects are out of the full passes
        clock.now = 1.0
        policy.tick(busy=False)
        clock.now = 2.5
        policy.tick(busy=False)
        assert policy.full_collections == 0  # not idle long enough yet
        clock.now = 3.5
        policy.tick(busy=False)
        assert policy.full_collections == 1  # frozen cycles reclaimed once
        clock.now = 10.0
        policy.tick(busy=False)
        assert policy.full_collections == 1  # and not again until there was activity
    finally:
        gc.unfreeze()
