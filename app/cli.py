"""The `loupe` command: serve, worker, db, demo, users, tokens."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask

from app.core.errors import ServiceError

# Each command imports the app when it runs, not at the top: `loupe --help` and a mistyped
# option answer at once, without loading Flask, SQLAlchemy, Celery and aiortc.


def _app() -> Flask:
    from app import create_app

    return create_app()


@contextmanager
def _context() -> Iterator[Flask]:
    app = _app()
    with app.app_context():
        try:
            yield app
        except ServiceError as exc:
            raise click.ClickException(exc.message) from exc


@click.group(help="Loupe: video coaching for teachers.")
def main() -> None:
    """Run a Loupe command."""


def _upgrade() -> None:
    from flask_migrate import upgrade

    upgrade()


@main.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Migrate the database to the newest schema (or the given revision)."""
    from flask_migrate import upgrade

    with _context():
        upgrade(revision=revision)
    click.echo(f"Database at {revision}.")


@db.command("downgrade")
@click.option("--revision", default="-1", show_default=True)
def db_downgrade(revision: str) -> None:
    """Step the schema back (by default one revision)."""
    from flask_migrate import downgrade

    with _context():
        downgrade(revision=revision)
    click.echo(f"Database downgraded to {revision}.")


@main.command()
def demo() -> None:
    """Seed the demo district (once; a second run changes nothing)."""
    from app.demo import seed_demo

    with _context():
        from app.frameworks.service import ensure_builtins

        _upgrade()
        ensure_builtins()
        created = seed_demo()
    click.echo("Demo district seeded." if created else "Demo district already present.")
    _print_logins()


def _print_logins() -> None:
    from app.demo import DEMO_PASSWORD, demo_logins

    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for role, email, name in demo_logins():
        click.echo(f"  {role:<8} {email:<34} {name}")


@main.group()
def users() -> None:
    """Manage accounts."""


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["teacher", "coach", "admin"]), required=True)
@click.option("--password", required=True, help="At least 10 characters.")
@click.option("--name", default=None)
@click.option("--org", "org_slug", default=None, help="District short name (created if new).")
def users_create(
    email: str, role: str, password: str, name: str | None, org_slug: str | None
) -> None:
    """Create an account in a district."""
    from sqlalchemy import select

    from app.accounts import service as accounts
    from app.accounts.models import Organization
    from app.core.extensions import db as database

    with _context():
        orgs = list(database.session.scalars(select(Organization).order_by(Organization.id)))
        if org_slug:
            org = next((o for o in orgs if o.slug == org_slug), None)
            if org is None:
                org = accounts.create_organization(org_slug.replace("-", " ").title(), org_slug)
        elif len(orgs) == 1:
            org = orgs[0]
        elif not orgs:
            org = accounts.create_organization("My District", "district")
        else:
            raise click.ClickException(
                "Several districts exist; name one with --org " + ", ".join(o.slug for o in orgs)
            )
        user = accounts.create_user(
            actor=None, organization=org, email=email, role=role, password=password, name=name
        )
        click.echo(f"Created {user.role.value} {user.email} (id {user.id}) in {org.name}.")


@main.group()
def tokens() -> None:
    """Manage personal API tokens."""


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="command line", show_default=True)
def tokens_create(email: str, name: str) -> None:
    """Create a personal API token for a person and print it (shown once)."""
    from app.accounts import service as accounts
    from app.accounts import tokens as api_tokens

    with _context():
        user = accounts.find_user_by_email(email)
        if user is None or not user.active:
            raise click.ClickException(f"No active account {email}.")
        _, raw = api_tokens.create_api_token(user, name)
    click.echo(raw)


@main.command()
@click.option(
    "--concurrency", type=int, default=None, help="Jobs at once (LOUPE_WORKER_CONCURRENCY)."
)
@click.option("--beat/--no-beat", default=False, help="Also run the periodic jobs (one per site).")
@click.option("--loglevel", default="INFO", show_default=True)
def worker(concurrency: int | None, beat: bool, loglevel: str) -> None:
    """Run a Celery worker for background jobs."""
    from app.core.tasks import DEFAULT_QUEUE
    from app.lessons.jobs import MEDIA_QUEUE
    from app.worker import celery, flask_app

    n = concurrency or flask_app.config["WORKER_CONCURRENCY"]
    argv = [
        "worker",
        f"--loglevel={loglevel}",
        f"--concurrency={n}",
        f"--queues={DEFAULT_QUEUE},{MEDIA_QUEUE}",
        "--hostname=loupe@%h",
        "--without-gossip",
        "--without-mingle",
    ]
    if beat:
        argv.append("--beat")
    celery.worker_main(argv)


@main.command("rtc-gateway")
@click.option("--host", default=None, help="Address to listen on (LOUPE_RTC_HOST).")
@click.option("--port", default=None, type=int, help="Port (LOUPE_RTC_PORT).")
def rtc_gateway(host: str | None, port: int | None) -> None:
    """Run the WebRTC gateway that records debriefs (its own asyncio process)."""
    import asyncio
    import logging

    from app import create_app, quiet_webrtc_logs
    from app.core.config import Config
    from app.rtc.gateway import Gateway, serve

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    quiet_webrtc_logs()
    config = Config()
    flask_app = create_app(config)

    async def notify(stream_id: int, event: str, manifest: str | None) -> None:
        # A live lesson's news goes to a worker (the database and browsers are its business).
        from app.live.jobs import stream_event

        def send() -> None:
            with flask_app.app_context():
                stream_event.delay(stream_id, event, manifest)

        await asyncio.to_thread(send)

    gateway = Gateway(
        config.SECRET_KEY, config.DATA_DIR, grace_s=config.LIVE_GRACE_SECONDS, notify=notify
    )
    address, number = host or config.RTC_HOST, port or config.RTC_PORT
    try:
        asyncio.run(serve(gateway, address, number))
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise click.ClickException(
            f"The rtc gateway cannot listen on {address}:{number}: the port is taken (another "
            "Loupe's gateway or another program holds it). Stop it, or set LOUPE_RTC_PORT."
        ) from exc


@main.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--owner", "owner_email", required=True, help="The teacher the lessons belong to.")
@click.option(
    "--title-from",
    type=click.Choice(["filename", "none"]),
    default="filename",
    show_default=True,
    help="Name each lesson after its file, or 'Imported lesson'.",
)
def import_command(folder: Path, owner_email: str, title_from: str) -> None:
    """Import every video file of FOLDER as lessons of a teacher (files seen before are skipped)."""
    from app.accounts import service as accounts
    from app.lessons import imports

    with _context():
        owner = accounts.find_user_by_email(owner_email)
        if owner is None or not owner.active:
            raise click.ClickException(f"No active account {owner_email}.")
        counts = {"imported": 0, "skipped": 0, "failed": 0}
        for outcome in imports.import_folder(
            owner, folder, title_from_filename=title_from == "filename"
        ):
            counts[outcome.status] += 1
            click.echo(f"{outcome.status:<9} {outcome.path}  ({outcome.detail})")
    click.echo(
        f"{counts['imported']} imported, {counts['skipped']} skipped, {counts['failed']} failed."
    )
    if counts["failed"]:
        raise SystemExit(1)


@main.group()
def media() -> None:
    """Manage lesson videos' media."""


@media.command("reprocess")
@click.argument("video_id", type=int)
def media_reprocess(video_id: int) -> None:
    """Run the media pipeline again on a video's original upload."""
    from app.core.extensions import db as database
    from app.lessons import processing
    from app.lessons.models import Video

    with _context():
        video = database.session.get(Video, video_id)
        if video is None:
            raise click.ClickException(f"No video {video_id}.")
        processing.reprocess(video, actor=None)
    click.echo(f"Video {video_id} queued for processing.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True)
@click.option(
    "--demo/--no-demo", "with_demo", default=False, help="Seed the demo district on first start."
)
@click.option("--worker/--no-worker", "with_worker", default=True, help="Also run a job worker.")
@click.option(
    "--rtc/--no-rtc", "with_rtc", default=True, help="Also run the WebRTC recording gateway."
)
def serve(host: str, port: int, with_demo: bool, with_worker: bool, with_rtc: bool) -> None:
    """Run the web app, Socket.IO and (by default) a job worker, in the foreground."""
    from app.demo import seed_demo
    from app.server import LoupeServer

    app = _app()
    with app.app_context():
        from app.frameworks.service import ensure_builtins

        _upgrade()
        ensure_builtins()
        if with_demo:
            seed_demo()
    children: list[subprocess.Popen[bytes]] = []
    try:
        # The worker starts first: it boots while the gateway does.
        if with_worker:
            children.append(
                subprocess.Popen(
                    [sys.executable, "-m", "app.cli", "worker", "--beat", "--loglevel=WARNING"]
                )
            )
        if with_rtc:
            gateway = subprocess.Popen([sys.executable, "-m", "app.cli", "rtc-gateway"])
            children.append(gateway)
            _wait_for_gateway(app, gateway)
    except BaseException:
        _stop(children)
        raise
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host  # noqa: S104
    click.echo("")
    click.echo(f"Loupe is running at http://{shown}:{port}/  (data in {app.config['DATA_DIR']})")
    if with_demo:
        _print_logins()
    click.echo("Press Ctrl-C to stop.\n")
    try:
        LoupeServer(app, host, port).run()
    finally:
        _stop(children)


def _wait_for_gateway(app: Flask, gateway: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Return once our own gateway answers; stop with the reason if it cannot start."""
    from app.rtc.client import GatewayForeign, GatewayUnavailable, verify_gateway

    deadline = time.monotonic() + timeout
    stranger: GatewayForeign | None = None
    with app.app_context():
        while True:
            try:
                verify_gateway(timeout=2)
                return
            except GatewayForeign as exc:
                # Ours may still be starting while a stranger answers: it fails to bind soon.
                stranger = exc
            except GatewayUnavailable:
                pass
            if gateway.poll() is not None:
                reason = stranger.message if stranger else "see its message above."
                raise click.ClickException(
                    f"The rtc gateway exited (code {gateway.returncode}); Loupe stops. {reason}"
                )
            if time.monotonic() > deadline:
                reason = stranger.message if stranger else "it does not answer."
                raise click.ClickException(
                    f"The rtc gateway did not start within {timeout:g}s; Loupe stops. {reason}"
                )
            time.sleep(0.2)  # polling a starting process, not synchronising on an outcome


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
