"""The web app's side of the gateway: signed requests to publish and to finish a recording.

Before a token or an offer leaves, the gateway proves it is this Loupe's own (it answers a
fresh nonce with an HMAC made with the shared secret): with two instances on one machine,
whatever holds the port may be another Loupe's gateway, which would only refuse our tokens.
Its errors are its own (GatewayError); the services that call it translate them into the
domain's. May use the rtc tokens, Flask's config and requests only.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import current_app

from app.rtc import tokens


class GatewayError(Exception):
    """The gateway did not do what was asked; `status` is the HTTP status that says why."""

    status = 502

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class GatewayUnavailable(GatewayError):
    """The recording gateway did not answer."""

    status = 503


class GatewayForeign(GatewayUnavailable):
    """Something answers at the gateway's address, but it is not this Loupe's gateway."""


class GatewayRefused(GatewayError):
    """The gateway answered with an error; `status` is its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


NOT_RUNNING = (
    "The recording service is not running; ask your administrator to start `loupe rtc-gateway`."
)


def verify_gateway(timeout: float = 5.0) -> None:
    """Check that the gateway answering at RTC_GATEWAY_URL is this Loupe's own."""
    base = current_app.config["RTC_GATEWAY_URL"]
    nonce = secrets.token_urlsafe(24)
    try:
        answer = requests.get(f"{base}/v1/health", params={"nonce": nonce}, timeout=timeout)
        data = answer.json()
    except requests.ConnectionError as exc:
        raise GatewayUnavailable(NOT_RUNNING) from exc
    except (requests.RequestException, ValueError) as exc:
        raise _foreign(base, loupe=False) from exc
    if not isinstance(data, dict):
        raise _foreign(base, loupe=False)
    if not tokens.is_proof(current_app.config["SECRET_KEY"], nonce, data.get("proof")):
        raise _foreign(base, loupe=data.get("service") == tokens.SERVICE)


def _foreign(base: str, *, loupe: bool) -> GatewayForeign:
    port = urlsplit(base).port
    holder = "another Loupe's gateway" if loupe else "another program"
    return GatewayForeign(
        f"The recording service is not this Loupe's: {holder} holds port {port}. Stop it, "
        "or run this Loupe with another LOUPE_RTC_PORT."
    )


def _post(path: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
    verify_gateway()  # a token or an offer never goes to a stranger
    url = current_app.config["RTC_GATEWAY_URL"] + path
    try:
        answer = requests.post(url, json=body, timeout=timeout)
    except requests.RequestException as exc:
        raise GatewayUnavailable(NOT_RUNNING) from exc
    data: dict[str, Any] = answer.json() if answer.content else {}
    if answer.status_code >= 400:
        raise GatewayRefused(
            answer.status_code, str(data.get("error", "The streaming service refused."))
        )
    return data


def publish(debrief_id: int, user_id: int, sdp: str) -> dict[str, Any]:
    """Hand a member's offer to the gateway and return its answer."""
    secret = current_app.config["SECRET_KEY"]
    token = tokens.sign(secret, act="publish", debrief=debrief_id, user=user_id)
    return _post("/v1/publish", {"token": token, "sdp": sdp, "type": "offer"}, timeout=20)


def finish(debrief_id: int) -> dict[str, Any]:
    """Stop recording a debrief; return the recorded tracks and the duration."""
    token = tokens.sign(current_app.config["SECRET_KEY"], act="finish", debrief=debrief_id)
    return _post("/v1/finish", {"token": token}, timeout=60)


LIVE_PATHS = {
    "whip": "/v1/whip",
    "whip-end": "/v1/whip/end",
    "whep": "/v1/whep",
    "whep-end": "/v1/whep/end",
    "whep-keep": "/v1/whep/keep",
}


def live(
    act: str, stream_id: int, *, claims: dict[str, Any] | None = None, **body: Any
) -> dict[str, Any]:
    """Call the gateway about a live lesson (publish, end, watch, stop watching, keep viewers).

    `claims` go inside the signed token (the person watching, who may keep watching), so the
    gateway trusts them; the body carries only what needs no trust (the SDP, the session).
    """
    token = tokens.sign(
        current_app.config["SECRET_KEY"], act=act, stream=stream_id, **(claims or {})
    )
    return _post(LIVE_PATHS[act], {"token": token, **body}, timeout=30)
