"""Debriefs over JSON: create, read, end, ICE servers, shared notes, the coaching log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from app.accounts.security import signed_in_user
from app.core.openapi import operation
from app.debriefs import coaching, recording, room
from app.debriefs import service as debriefs
from app.debriefs.schemas import (
    AnswerOut,
    ConsentIn,
    DebriefIn,
    DebriefOut,
    IceOut,
    NoteIn,
    NoteOut,
    NotePatch,
    OfferIn,
)

bp = Blueprint("debriefs", __name__, url_prefix="/api")
Json = tuple[Any, int] | Any


def _out(debrief: Any, status: int = 200) -> Json:
    data = debriefs.serialise(debrief, signed_in_user())
    return jsonify(DebriefOut.model_validate(data).model_dump(mode="json")), status


@operation(
    bp,
    "/debriefs",
    "POST",
    summary="Start or schedule a debrief about a lesson you may comment on (the lesson's "
    "teacher is always invited; at most 4 people)",
    body=DebriefIn,
    response=DebriefOut,
    status=201,
)
def create_debrief(body: DebriefIn) -> Json:
    return _out(debriefs.create_debrief(signed_in_user(), body), 201)


@operation(bp, "/debriefs", "GET", summary="Your debriefs", response=DebriefOut, many=True)
def list_debriefs() -> Json:
    user = signed_in_user()
    return jsonify(
        [
            DebriefOut.model_validate(debriefs.serialise(d, user)).model_dump(mode="json")
            for d in debriefs.list_debriefs(user)
        ]
    )


@operation(bp, "/debriefs/<int:debrief_id>", "GET", summary="One debrief", response=DebriefOut)
def get_debrief(debrief_id: int) -> Json:
    return _out(debriefs.get_debrief(signed_in_user(), debrief_id))


@operation(
    bp,
    "/debriefs/<int:debrief_id>/end",
    "POST",
    summary="End the debrief for everyone (its host only)",
    response=DebriefOut,
)
def end_debrief(debrief_id: int) -> Json:
    return _out(room.end(signed_in_user(), debrief_id))


@operation(
    bp,
    "/debriefs/<int:debrief_id>/ice",
    "GET",
    summary="STUN and TURN servers for a member; the TURN credentials expire at expires_at",
    response=IceOut,
)
def debrief_ice(debrief_id: int) -> Json:
    return jsonify(debriefs.ice_servers(signed_in_user(), debrief_id))


@operation(
    bp,
    "/debriefs/<int:debrief_id>/notes",
    "POST",
    summary="Add a shared note or an action step, optionally at a lesson time",
    body=NoteIn,
    response=NoteOut,
    status=201,
)
def add_note(debrief_id: int, body: NoteIn) -> Json:
    note = room.add_note(signed_in_user(), debrief_id, body)
    return jsonify(debriefs.serialise_note(note)), 201


@operation(
    bp,
    "/debriefs/<int:debrief_id>/notes/<int:note_id>",
    "PATCH",
    summary="Tick an action step done or not",
    body=NotePatch,
    response=NoteOut,
)
def update_note(debrief_id: int, note_id: int, body: NotePatch) -> Json:
    note = room.set_note_done(signed_in_user(), debrief_id, note_id, body.done)
    return jsonify(debriefs.serialise_note(note))


@operation(
    bp,
    "/debriefs/<int:debrief_id>/notes/<int:note_id>",
    "DELETE",
    summary="Delete your note",
    status=204,
)
def delete_note(debrief_id: int, note_id: int) -> Json:
    room.delete_note(signed_in_user(), debrief_id, note_id)
    return "", 204


@operation(
    bp,
    "/debriefs.csv",
    "GET",
    summary="The coaching log as CSV: a coach's debriefs, or every debrief of an "
    "administrator's district (start, end, duration, participants, lesson)",
    produces="text/csv",
)
def coaching_log_csv() -> Response:
    body = coaching.coaching_log_csv(signed_in_user())
    response = Response("\ufeff" + body, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="coaching-log.csv"'
    return response


@operation(
    bp,
    "/debriefs/<int:debrief_id>/recording",
    "POST",
    summary="Ask everyone to consent to recording (host only); it starts when all agree",
    response=DebriefOut,
    responses={409: "Ended, or the last recording is still processing"},
)
def request_recording(debrief_id: int) -> Json:
    return _out(recording.request_recording(signed_in_user(), debrief_id))


@operation(
    bp,
    "/debriefs/<int:debrief_id>/recording/consent",
    "POST",
    summary="Agree (or not) to this recording; a no stops it",
    body=ConsentIn,
    response=DebriefOut,
    responses={409: "Nobody asked to record"},
)
def consent_recording(debrief_id: int, body: ConsentIn) -> Json:
    return _out(recording.give_consent(signed_in_user(), debrief_id, body.agree))


@operation(
    bp,
    "/debriefs/<int:debrief_id>/recording/offer",
    "POST",
    summary="Send your camera and microphone to the recording gateway: an SDP offer in, "
    "its answer out (only while everyone consents)",
    body=OfferIn,
    response=AnswerOut,
    responses={409: "Not everyone consented", 503: "The recording gateway is not running"},
)
def recording_offer(debrief_id: int, body: OfferIn) -> Json:
    return jsonify(recording.recording_offer(signed_in_user(), debrief_id, body.sdp))


@operation(
    bp,
    "/debriefs/<int:debrief_id>/recording",
    "DELETE",
    summary="Stop recording (host only); the recording becomes a video shared with everyone",
    response=DebriefOut,
)
def stop_recording(debrief_id: int) -> Json:
    return _out(recording.stop_recording(signed_in_user(), debrief_id))
