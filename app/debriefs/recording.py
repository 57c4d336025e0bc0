"""Recording a debrief, only with everyone's consent: asking, consenting, forwarding offers to the
rtc gateway, stopping, handing the recording to the compose job by ids, and removing its files.
May use the debriefs service, the rtc client and core.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app

from app.accounts.models import User
from app.core import audit, queue
from app.core.errors import Conflict, from_status
from app.core.extensions import db
from app.debriefs.models import (
    Debrief,
    RecordingState,
)
from app.debriefs.service import get_debrief, host_debrief, membership, recording_state, to_room
from app.rtc import client as rtc_client
from app.rtc import folders

COMPOSE_RECORDING = "loupe.debriefs.compose_recording"  # the task of debriefs/jobs.py


def announce_recording(debrief: Debrief) -> None:
    """Tell the room the recording\'s state."""
    to_room("debrief.recording", {"debrief_id": debrief.id, **recording_state(debrief)}, debrief)


def request_recording(user: User, debrief_id: int) -> Debrief:
    """Ask everyone for consent to record (the host only); nothing records until all agree."""
    debrief = host_debrief(user, debrief_id)
    if debrief.closed:
        raise Conflict("This debrief has ended.")
    if debrief.recording in (RecordingState.ASKING, RecordingState.ON):
        return debrief
    if debrief.recording == RecordingState.PROCESSING:
        raise Conflict("The last recording is still being processed.")
    for participant in debrief.participants:
        # The host asking is the host's consent; everyone else is asked afresh.
        participant.consent = participant.user_id == user.id
    debrief.recording = RecordingState.ASKING
    debrief.recording_error = None
    audit.record(
        "debrief.recording_requested", actor=user, object_type="debrief", object_id=debrief.id
    )
    maybe_start(debrief)
    db.session.commit()
    announce_recording(debrief)
    return debrief


def maybe_start(debrief: Debrief) -> None:
    """Start recording once everyone asked has consented."""
    if debrief.recording == RecordingState.ASKING and all(p.consent for p in debrief.participants):
        debrief.recording = RecordingState.ON


def give_consent(user: User, debrief_id: int, agree: bool) -> Debrief:
    """Record a participant's yes or no; a no (even later) stops the recording."""
    debrief = get_debrief(user, debrief_id)
    member = membership(user, debrief)
    assert member is not None
    if debrief.recording not in (RecordingState.ASKING, RecordingState.ON):
        raise Conflict("Nobody asked to record this debrief.")
    member.consent = agree
    audit.record(
        "debrief.recording_consent",
        actor=user,
        object_type="debrief",
        object_id=debrief.id,
        agree=agree,
    )
    if agree:
        maybe_start(debrief)
        db.session.commit()
        announce_recording(debrief)
        return debrief
    return stop(debrief, user, reason=f"{user.name} did not consent to recording.")


def recording_offer(user: User, debrief_id: int, sdp: str) -> dict[str, Any]:
    """Forward a member's offer to the recording gateway once everyone has consented."""
    debrief = get_debrief(user, debrief_id)
    if debrief.recording != RecordingState.ON:
        raise Conflict("Recording needs everyone's consent first.")
    return _gateway(rtc_client.publish, debrief.id, user.id, sdp)


def _gateway(call: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Call the recording gateway; its errors become the domain's."""
    try:
        return call(*args)
    except rtc_client.GatewayError as exc:
        raise from_status(exc.status, exc.message) from exc


def stop_recording(user: User, debrief_id: int) -> Debrief:
    """Stop recording (the host only); the recording becomes a video for the participants."""
    return stop(host_debrief(user, debrief_id), user)


def stop(debrief: Debrief, user: User, reason: str | None = None) -> Debrief:
    """Stop recording; what was recorded goes to the compose job, everyone is told."""
    was_on = debrief.recording == RecordingState.ON
    debrief.recording = RecordingState.OFF
    for participant in debrief.participants:
        participant.consent = False
    if was_on:
        result = _gateway(rtc_client.finish, debrief.id)
        if result.get("tracks"):
            debrief.recording = RecordingState.PROCESSING
            db.session.commit()
            queue.enqueue(COMPOSE_RECORDING, debrief.id, result.get("manifest"))
        else:
            discard_recording(debrief.id, result)  # nothing worth composing
    debrief.recording_error = reason
    audit.record(
        "debrief.recording_stopped", actor=user, object_type="debrief", object_id=debrief.id
    )
    db.session.commit()
    announce_recording(debrief)
    return debrief


def discard_recording(debrief_id: int, result: dict[str, Any]) -> None:
    """Remove the files of one finished recording of a debrief (composed, or refused)."""
    # Only its own files: the debrief may be recording again into the same folder.
    data_dir = current_app.config["DATA_DIR"]
    where = folders.folder(data_dir, "debrief", debrief_id)
    folders.discard(data_dir, "debrief", debrief_id, folders.files_of(where, result))


def recording_kept(debrief_id: int, quiet_s: float) -> bool:
    """Answer whether a debrief's recording folder may still be needed.

    quiet_s is how long ago its folder was last written to.
    """
    debrief = db.session.get(Debrief, debrief_id)
    if debrief is None:
        return False
    if debrief.recording in (RecordingState.ASKING, RecordingState.ON):
        return True  # the gateway records (or is about to)
    if debrief.recording == RecordingState.PROCESSING:
        return quiet_s < float(current_app.config["RECORDING_RETENTION_HOURS"]) * 3600
    # Off, done or failed: leftovers, unless a new recording has just begun writing.
    return quiet_s < folders.WRITING_S
