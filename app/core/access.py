"""When access to lessons may have shrunk: the one entry point that reaches every open channel.

Access is checked when something is opened (a page, an API call, a media request, a room
join, a WHEP offer). Whatever stays open — Socket.IO rooms, debrief rooms, live viewers —
registers a closer here; a service that may have taken access away (a share revoked, a lesson
deleted, an account deactivated, a caseload entry removed) calls access_shrank() after its
commit, and each closer re-checks its channels against app.policy and closes those the policy
now refuses. Imports nothing but the standard library, so any service may call it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

log = logging.getLogger("loupe.access")

# A closer gets the lessons and the people whose access may have shrunk.
Closer = Callable[[frozenset[int], frozenset[int]], None]
_closers: dict[str, Closer] = {}


def closes_channels(name: str) -> Callable[[Closer], Closer]:
    """Register a closer of one kind of open channel (once per name)."""

    def register(closer: Closer) -> Closer:
        _closers[name] = closer
        return closer

    return register


def access_shrank(video_ids: Iterable[int], user_ids: Iterable[int]) -> None:
    """Re-check every open channel these people hold on these lessons; close what is refused.

    Call it after the commit that took access away. A closer that fails is logged and the
    others still run: one broken channel must not keep the rest open.
    """
    videos, users = frozenset(video_ids), frozenset(user_ids)
    if not videos or not users:
        return
    for name, closer in list(_closers.items()):
        try:
            closer(videos, users)
        except Exception:
            log.exception("closing %s channels after an access change failed", name)
