"""Nothing a client sends produces a 500: arbitrary bodies, ids and headers at every endpoint."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.models import User, Video
from tests.conftest import login

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
bodies = json_values | st.dictionaries(
    st.sampled_from(["email", "password", "permission", "name", "title", "extra"]),
    json_values,
    max_size=4,
)
ids = st.one_of(st.integers(min_value=-5, max_value=10**12), st.text(max_size=12))


def operations(app: Flask) -> list[tuple[str, str]]:
    doc = app.test_client().get("/api/openapi.json").get_json()
    return [(path, method.upper()) for path, ops in doc["paths"].items() for method in ops]


def test_no_body_id_or_header_makes_a_500(
    app: Flask, make_user: Callable[..., User], make_video: Callable[..., Video]
) -> None:
    teacher = make_user("teacher")
    make_video(teacher)
    client = app.test_client()
    csrf = login(client, teacher)
    ops = operations(app)

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        op=st.sampled_from(ops),
        body=bodies,
        path_ids=st.lists(ids, min_size=2, max_size=2),
        raw=st.binary(max_size=64),
        use_raw=st.booleans(),
        auth=st.sampled_from(["csrf", "none", "bearer-garbage"]),
    )
    def check(
        op: tuple[str, str], body: Any, path_ids: list[Any], raw: bytes, use_raw: bool, auth: str
    ) -> None:
        path, method = op
        values = iter(path_ids)
        url = re.sub(r"\{[^}]+\}", lambda _: str(next(values)), path)
        headers = {"X-CSRF-Token": csrf} if auth == "csrf" else {}
        if auth == "bearer-garbage":
            headers["Authorization"] = "Bearer loupe_" + raw.hex()
        if path == "/api/auth/logout":
            return  # would end the session the other examples use
        if use_raw:
            response = client.open(
                url, method=method, data=raw, content_type="application/json", headers=headers
            )
        else:
            response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code < 500, (method, url, body, response.get_data(as_text=True))
        if response.status_code >= 400 and method != "HEAD":  # HEAD answers carry no body
            assert "error" in response.get_json(), (method, url)

    check()
