"""The WebRTC gateway: its own asyncio process that receives and records debrief participants.

Browsers publish to it (a receive-only peer here) with an offer the web app forwards after
checking membership and consent; the web app signs a short-lived token for each call, so the
gateway trusts nothing else. Recording happens off the event loop (see recorder.py). Run
with `loupe rtc-gateway`; `loupe serve` starts one in the embedded default.

Internal HTTP API (bind it to localhost or a private network):
  POST /v1/publish    {token, sdp, type: "offer"}  -> {sdp, type: "answer", session}
  POST /v1/finish     {token}                      -> {duration_s, tracks: [...], manifest}
  POST /v1/whip       {token, sdp}  a live lesson's publisher (see live.py)
  POST /v1/whip/end   {token}       -> its recording

A finished recording's manifest stays in its folder for the jobs (see folders.py).
  POST /v1/whep       {token, sdp}  a viewer of a live lesson
  POST /v1/whep/end   {token, session}  the token names the person; only theirs ends
  POST /v1/whep/keep  {token}       close the viewers of a stream not in the token's `allowed`
  GET  /v1/health[?nonce=N]                        -> counts, dropped frames, memory, and
                                                      with a nonce the proof that this gateway
                                                      shares the web app's secret
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from app.rtc import folders, tokens
from app.rtc.live import LiveError, LiveHub, Notify
from app.rtc.recorder import TrackRecorder

log = logging.getLogger("loupe.rtc.gateway")
MAX_BODY = 256 * 1024


@dataclass
class Session:
    """One participant's connection to the gateway."""

    id: str
    user_id: int
    pc: RTCPeerConnection
    recorders: list[TrackRecorder] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


@dataclass
class Call:
    """One debrief being recorded."""

    debrief_id: int
    folder: Path
    epoch: float = field(default_factory=time.monotonic)
    sessions: dict[str, Session] = field(default_factory=dict)


class Gateway:
    """The state of the gateway process: calls being recorded."""

    def __init__(
        self, secret: str, data_dir: Path, *, grace_s: float = 60.0, notify: Notify | None = None
    ) -> None:
        self.secret = secret
        self.data_dir = data_dir
        self.calls: dict[int, Call] = {}
        self.dropped_total = 0
        self.live = LiveHub(data_dir, grace_s, notify or _log_only)

    # --- live lessons -------------------------------------------------------------------------

    async def whip(self, request: web.Request) -> web.Response:
        body = await _json(request)
        claims = self._claims(body, "whip")
        return await self._live(self.live.publish(int(claims["stream"]), _offer(body)))

    async def whip_end(self, request: web.Request) -> web.Response:
        claims = self._claims(await _json(request), "whip-end")
        return await self._live(self.live.end(int(claims["stream"])))

    async def whep(self, request: web.Request) -> web.Response:
        body = await _json(request)
        claims = self._claims(body, "whep")
        return await self._live(
            self.live.watch(int(claims["stream"]), _offer(body), int(claims["user"]))
        )

    async def whep_end(self, request: web.Request) -> web.Response:
        body = await _json(request)
        claims = self._claims(body, "whep-end")
        session = body.get("session")
        if not isinstance(session, str):
            raise _error(400, "Send {token, session}.")
        return await self._live(
            self.live.stop_watching(int(claims["stream"]), session, int(claims["user"]))
        )

    async def whep_keep(self, request: web.Request) -> web.Response:
        claims = self._claims(await _json(request), "whep-keep")
        allowed = {int(uid) for uid in claims["allowed"]}
        return await self._live(self.live.keep_viewers(int(claims["stream"]), allowed))

    async def _live(self, work: Awaitable[dict[str, Any] | None]) -> web.Response:
        try:
            return web.json_response(await work or {})
        except LiveError as exc:
            raise _error(exc.status, str(exc)) from exc

    # --- HTTP -------------------------------------------------------------------------------

    async def publish(self, request: web.Request) -> web.Response:
        body = await _json(request)
        claims = self._claims(body, "publish")
        sdp = _offer(body)
        debrief_id, user_id = int(claims["debrief"]), int(claims["user"])
        call = self.calls.get(debrief_id)
        if call is None:
            call = Call(debrief_id, folders.folder(self.data_dir, "debrief", debrief_id))
            self.calls[debrief_id] = call
        session = Session(uuid.uuid4().hex[:12], user_id, RTCPeerConnection())
        pc = session.pc

        @pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind not in ("audio", "video"):
                return
            path = call.folder / f"{user_id}-{session.id}-{track.kind}.mkv"
            recorder = TrackRecorder(path, track.kind, call.epoch)
            session.recorders.append(recorder)
            session.tasks.append(asyncio.create_task(_pump(track, recorder)))

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                log.info("session %s of debrief %s: %s", session.id, debrief_id, pc.connectionState)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:  # aiortc raises several kinds on a bad offer
            await pc.close()
            raise _error(400, f"The offer could not be used: {exc}") from exc
        call.sessions[session.id] = session
        log.info("debrief %s: user %s publishes (session %s)", debrief_id, user_id, session.id)
        answer = pc.localDescription
        return web.json_response({"sdp": answer.sdp, "type": answer.type, "session": session.id})

    async def finish(self, request: web.Request) -> web.Response:
        body = await _json(request)
        claims = self._claims(body, "finish")
        call = self.calls.pop(int(claims["debrief"]), None)
        if call is None:
            raise _error(404, "Nothing is being recorded for this debrief.")
        return web.json_response(await self._finish(call))

    async def health(self, request: web.Request) -> web.Response:
        sessions = [s for c in self.calls.values() for s in c.sessions.values()]
        recorders = [r for s in sessions for r in s.recorders]
        # A web app knows its own gateway by this answer: another Loupe's on the same port
        # (two instances on one machine) cannot make it without the secret.
        nonce = request.query.get("nonce", "")
        proof = tokens.prove(self.secret, nonce) if 0 < len(nonce) <= tokens.MAX_NONCE else None
        return web.json_response(
            {
                "service": tokens.SERVICE,
                "proof": proof,
                "calls": len(self.calls),
                "sessions": len(sessions),
                "tracks": len(recorders),
                "dropped_frames": self.dropped_total + sum(r.dropped for r in recorders),
                "rss_kib": _rss_kib(),
                **self.live.counts(),
            }
        )

    # --- work -------------------------------------------------------------------------------

    def _claims(self, body: dict[str, Any], act: str) -> dict[str, Any]:
        token = body.get("token")
        if not isinstance(token, str):
            raise _error(401, "A token from the web app is required.")
        try:
            return tokens.verify(self.secret, token, act=act)
        except tokens.TokenError as exc:
            raise _error(403, str(exc)) from exc

    async def _finish(self, call: Call) -> dict[str, Any]:
        duration = time.monotonic() - call.epoch
        for session in call.sessions.values():
            await session.pc.close()
            for task in session.tasks:
                task.cancel()
        recorders = [(s, r) for s in call.sessions.values() for r in s.recorders]
        # Closing flushes the encoders: blocking work, so off the event loop.
        await asyncio.gather(*(asyncio.to_thread(r.close) for _, r in recorders))
        tracks = [
            {
                "user_id": s.user_id,
                "kind": r.kind,
                "path": str(r.path),
                "offset_s": round(r.offset_s or 0.0, 3),
                "frames": r.frames,
                "dropped": r.dropped,
                "failed": r.failed,
            }
            for s, r in recorders
            if r.frames > 0 and r.path.exists()
        ]
        self.dropped_total += sum(r.dropped for _, r in recorders)
        result = {"debrief_id": call.debrief_id, "duration_s": round(duration, 3), "tracks": tracks}
        if tracks:
            result["manifest"] = folders.write_result(call.folder, result)
        log.info("debrief %s: recording finished, %d tracks", call.debrief_id, len(tracks))
        return result

    async def shutdown(self) -> None:
        """Finish every call and live lesson so nothing recorded is lost."""
        for debrief_id in list(self.calls):
            await self._finish(self.calls.pop(debrief_id))
        await self.live.shutdown()


def _offer(body: dict[str, Any]) -> str:
    sdp = body.get("sdp")
    if (
        not isinstance(sdp, str)
        or body.get("type", "offer") != "offer"
        or not sdp.startswith("v=0")
    ):
        raise _error(400, "Send {token, sdp, type: 'offer'} with an SDP offer.")
    if "\nm=audio " not in sdp and "\nm=video " not in sdp:
        raise _error(400, "The offer carries no audio or video.")
    return sdp


async def _log_only(stream_id: int, event: str, manifest: str | None) -> None:
    log.warning("live %s %s, but nobody is told (no notifier configured)", stream_id, event)


async def _pump(track: Any, recorder: TrackRecorder) -> None:
    with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
        while True:
            recorder.push(await track.recv())


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, web.HTTPRequestEntityTooLarge) as exc:
        raise _error(400, "The body must be a JSON object.") from exc
    if not isinstance(body, dict):
        raise _error(400, "The body must be a JSON object.")
    return body


def _error(status: int, message: str) -> web.HTTPException:
    kinds: dict[int, type[web.HTTPException]] = {
        400: web.HTTPBadRequest,
        401: web.HTTPUnauthorized,
        403: web.HTTPForbidden,
        404: web.HTTPNotFound,
        409: web.HTTPConflict,
    }
    return kinds[status](text=json.dumps({"error": message}), content_type="application/json")


def _rss_kib() -> int:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def make_app(gateway: Gateway) -> web.Application:
    """Return the gateway's HTTP application."""
    application = web.Application(client_max_size=MAX_BODY)
    application.add_routes(
        [
            web.post("/v1/publish", gateway.publish),
            web.post("/v1/finish", gateway.finish),
            web.get("/v1/health", gateway.health),
            web.post("/v1/whip", gateway.whip),
            web.post("/v1/whip/end", gateway.whip_end),
            web.post("/v1/whep", gateway.whep),
            web.post("/v1/whep/end", gateway.whep_end),
            web.post("/v1/whep/keep", gateway.whep_keep),
        ]
    )
    return application


async def serve(gateway: Gateway, host: str, port: int) -> None:
    """Run until SIGINT or SIGTERM, then finish every recording."""
    runner = web.AppRunner(make_app(gateway), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("rtc gateway listening on http://%s:%d", host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await gateway.shutdown()
    await runner.cleanup()
