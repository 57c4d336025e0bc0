"""Nothing a client sends produces a 500: arbitrary bodies, ids and headers at every endpoint."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.accounts.models import CoachAssignment, User
from app.core.extensions import db
from app.lessons.models import Video
from tests.conftest import login

# Numbers past every column's range (2^31, 2^63, 10^30) and digits that are not ASCII:
# str.isdigit() accepts '²' and int() accepts '٣', neither is a number Loupe stores.
huge = st.sampled_from([2**31, 2**63 - 1, 2**63, 10**30, -(2**63) - 1]) | st.integers(
    min_value=2**31, max_value=10**40
)
unicode_digits = st.text(
    alphabet="0123456789\u00b2\u00b3\u00b9\u0660\u0663\u06f5\uff11", min_size=1, max_size=6
)
numbers = st.integers() | huge
json_values = st.recursive(
    st.none() | st.booleans() | numbers | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
bodies = json_values | st.dictionaries(
    st.sampled_from(
        [
            "email",
            "password",
            "permission",
            "name",
            "title",
            "extra",
            "video_id",
            "dimension_id",
            "level_id",
            "framework_id",
            "start_ms",
            "at_ms",
        ]
    ),
    json_values,
    max_size=4,
)
# Otherwise valid bodies whose ids and times are past their columns: they pass the required
# fields, so the numbers would reach the database if nothing bounded them.
numbered_bodies = st.fixed_dictionaries(
    {"start_ms": st.integers(0, 1000), "body": st.just("Wait time")},
    optional={
        k: numbers for k in ("dimension_id", "level_id", "framework_id", "video_id", "at_ms")
    },
)
bodies = bodies | numbered_bodies
ids = st.one_of(
    st.integers(min_value=-5, max_value=10**12), huge, unicode_digits, st.text(max_size=12)
)
# Query parameters and tus headers parsed as numbers.
number_texts = st.one_of(unicode_digits, huge.map(str), st.integers().map(str), st.text(max_size=8))
HEADERS = ("Upload-Length", "Upload-Offset")
QUERIES = ("since", "limit")


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
        numbers_sent=st.dictionaries(st.sampled_from(HEADERS + QUERIES), number_texts, max_size=3),
    )
    def check(
        op: tuple[str, str],
        body: Any,
        path_ids: list[Any],
        raw: bytes,
        use_raw: bool,
        auth: str,
        numbers_sent: dict[str, str],
    ) -> None:
        path, method = op
        values = iter(path_ids)
        url = re.sub(r"\{[^}]+\}", lambda _: str(next(values)), path)
        headers = {"X-CSRF-Token": csrf} if auth == "csrf" else {}
        headers["Tus-Resumable"] = "1.0.0"
        # Headers travel as latin-1 on one line: '²' can arrive, '٣' cannot.
        headers |= {
            k: v
            for k, v in numbers_sent.items()
            if k in HEADERS and v.isprintable() and all(ord(c) < 256 for c in v)
        }
        query = {k: v for k, v in numbers_sent.items() if k in QUERIES}
        if query:  # a text path id may hold a '?' of its own
            url += ("&" if "?" in url else "?") + urlencode(query)
        if auth == "bearer-garbage":
            headers["Authorization"] = "Bearer loupe_" + raw.hex()
        if path == "/api/auth/logout":
            return  # would end the session the other examples use
        if use_raw:
            response = client.open(
                url,
                method=method,
                data=raw,
                content_type="application/json",
                headers=headers,
            )
        else:
            response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code < 500, (method, url, body, response.get_data(as_text=True))
        if response.status_code >= 400 and method != "HEAD":  # HEAD answers carry no body
            assert "error" in response.get_json(), (method, url)

    check()


@pytest.mark.parametrize(
    "form",
    [
        {"coach_id": "\u00b2", "teacher_id": "1"},
        {"coach_id": str(2**63), "teacher_id": "1"},
        {"coach_id": "{coach}", "teacher_id": "{teacher}", "framework_id": "x"},
        {"coach_id": "{coach}", "teacher_id": "{teacher}", "framework_id": str(10**30)},
    ],
    ids=["superscript", "2^63", "framework-text", "framework-10^30"],
)
def test_admin_form_numbers_are_refused_with_a_message(
    app: Flask, make_user: Callable[..., User], form: dict[str, str]
) -> None:
    # '²' passed isdigit() and broke int(); a framework id was int() of anything: 500s.
    admin, coach, teacher = make_user("admin"), make_user("coach"), make_user("teacher")
    client = app.test_client()
    csrf = login(client, admin)
    data = {k: v.format(coach=coach.id, teacher=teacher.id) for k, v in form.items()}
    response = client.post("/admin/assignments", data=data, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 302
    page = client.get("/admin").get_data(as_text=True)
    assert re.search(r'class="flash flash-error">Choose a value for \w+ id', page), page
    assert db.session.scalar(select(func.count()).select_from(CoachAssignment)) == 0
