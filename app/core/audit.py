"""Write the audit trail; the request layer supplies the client address through a context."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from app.core.audit_models import AuditEvent
from app.core.extensions import db

log = logging.getLogger("loupe.audit")


class Actor(Protocol):
    """Whoever acts (a User): the trail keeps their id and district."""

    @property
    def id(self) -> int: ...

    @property
    def organization_id(self) -> int: ...


_client_ip: ContextVar[str | None] = ContextVar("loupe_client_ip", default=None)


@contextmanager
def client_address(ip: str | None) -> Iterator[None]:
    """Attribute the audit events written inside the block to this client address."""
    token = _client_ip.set(ip)
    try:
        yield
    finally:
        _client_ip.reset(token)


def set_client_address(ip: str | None) -> None:
    """Attribute this request's audit events to the client address (reset per request)."""
    _client_ip.set(ip)


def record(
    action: str,
    *,
    actor: Actor | None,
    object_type: str,
    object_id: int | str | None,
    organization_id: int | None = None,
    **detail: Any,
) -> AuditEvent:
    """Append one audit event to the session (committed with the action it records)."""
    evt = AuditEvent(
        action=action,
        actor_id=actor.id if actor else None,
        organization_id=organization_id
        if organization_id is not None
        else (actor.organization_id if actor else None),
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        ip=_client_ip.get(),
        detail=detail,
    )
    db.session.add(evt)
    log.info("%s by %s on %s:%s", action, evt.actor_id, object_type, object_id)
    return evt


def record_now(
    action: str,
    *,
    actor: Actor | None,
    object_type: str,
    object_id: int | str | None,
    organization_id: int | None = None,
    **detail: Any,
) -> None:
    """Append and commit an audit event on its own, for refusals that change nothing else."""
    record(
        action,
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        organization_id=organization_id,
        **detail,
    )
    db.session.commit()
