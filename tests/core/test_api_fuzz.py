"""Schemathesis over the whole OpenAPI document, against a real `loupe serve`.

Every operation gets the schema's boundary cases (the coverage phase: huge and negative
numbers, missing and malformed fields) and a bounded number of generated ones, valid and
invalid, as a throwaway teacher with a personal API token, so deletes reach only its own data.
The checks: no 5xx, every status answered is documented, every answer matches its schema.
Run through schemathesis's command line, its stable interface, which explains each failure
with a curl command that reproduces it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.accounts import service as accounts
from app.accounts import tokens as api_tokens
from app.accounts.models import Role
from tests.conftest import PASSWORD, LiveServer, start_server, stop_server

# Generated cases per operation, on top of the coverage phase's boundary cases: bounded so the
# whole module runs in about two minutes on CI's 2 cores.
MAX_EXAMPLES = 6
SEED = 20261202
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
DEMO_TEACHER = "ana.lopez@riverbend.example"
# Revoking tokens (the fuzzer's own among them) and signing out run last, on a token of their own.
LAST = r"^/api/(tokens/\{token_id\}|auth/logout)$"


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One `loupe serve --demo` for the module: the demo district gives the fuzzer people."""
    server = start_server(tmp_path_factory.mktemp("fuzz"), demo=True, worker=False)
    yield server
    stop_server(server)


def throwaway_token(server: LiveServer) -> str:
    """Create a teacher of the demo district for one run alone and return their API token."""
    with server.app().app_context():
        demo_teacher = accounts.find_user_by_email(DEMO_TEACHER)
        assert demo_teacher is not None
        teacher = accounts.create_user(
            actor=None,
            organization=demo_teacher.organization,
            email=f"fuzz-{uuid.uuid4().hex[:8]}@riverbend.example",
            role=Role.TEACHER,
            password=PASSWORD,
            name="Fuzz Teacher",
        )
        return api_tokens.create_api_token(teacher, "schemathesis")[1]


def fuzz(server: LiveServer, workdir: Path, *filters: str) -> None:
    """Run schemathesis over the served document; fail with its report of what it found."""
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{server.url}/api/openapi.json",
        "--header",
        f"Authorization: Bearer {throwaway_token(server)}",
        "--checks",
        CHECKS,
        "--phases",
        "coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",  # one request at a time, in a fixed order: the same run every time
        "--generation-database",
        "none",
        "--generation-with-security-parameters",
        "false",  # the token is the credential; no generated cookies
        "--suppress-health-check",
        "all",
        "--no-color",
        *filters,
    ]
    run = subprocess.run(
        command,
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)},
        cwd=workdir,  # where schemathesis keeps its cache
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = run.stdout[run.stdout.find("=====") :] if "=====" in run.stdout else run.stdout
    assert run.returncode == 0, f"{report[:20000]}\n{run.stderr[-2000:]}"


def test_every_operation_answers_only_documented_statuses(
    fuzz_server: LiveServer, tmp_path: Path
) -> None:
    fuzz(fuzz_server, tmp_path, "--exclude-path-regex", LAST)


def test_revoking_tokens_and_signing_out_answer_only_documented_statuses(
    fuzz_server: LiveServer, tmp_path: Path
) -> None:
    fuzz(fuzz_server, tmp_path, "--include-path-regex", LAST)
