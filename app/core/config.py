"""Settings, every one read from a LOUPE_* environment variable."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any


def _secret_key(data_dir: Path, env: Mapping[str, str]) -> str:
    """Return LOUPE_SECRET_KEY, or a key generated once and kept in the data folder."""
    if env.get("LOUPE_SECRET_KEY"):
        return env["LOUPE_SECRET_KEY"]
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Written with 0600 from the start so the key is never readable by others, even briefly.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from exc


def database_url(url: str) -> str:
    """Return the URL with the PostgreSQL driver Loupe ships (psycopg 3) made explicit."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    """Production-shaped settings for the embedded default and the scaled deployment."""

    TESTING = False

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.DATA_DIR = Path(env.get("LOUPE_DATA_DIR", "instance")).resolve()
        self.DATA_DIR.mkdir(parents=True, exist_ok=True)
        self.MEDIA_DIR = self.DATA_DIR / "media"
        self.SECRET_KEY = _secret_key(self.DATA_DIR, env)
        self.SQLALCHEMY_DATABASE_URI = database_url(
            env.get("LOUPE_DATABASE_URL", f"sqlite:///{self.DATA_DIR / 'loupe.sqlite'}")
        )
        self.SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
        self.REDIS_URL: str | None = env.get("LOUPE_REDIS_URL") or None
        self.BROKER_URL = env.get("LOUPE_BROKER_URL") or (
            self.REDIS_URL or f"sqla+sqlite:///{self.DATA_DIR / 'broker.sqlite'}"
        )
        # Without Redis, processes exchange Socket.IO events through a folder (kombu's
        # filesystem transport), so a Celery worker still reaches browsers.
        self.EVENTS_DIR = self.DATA_DIR / "events"
        self.PUBLIC_URL: str | None = env.get("LOUPE_PUBLIC_URL") or None
        # How many proxies in front of Loupe set X-Forwarded-*; 0 trusts none of those headers.
        self.PROXY_HOPS = _int(env, "LOUPE_PROXY_HOPS", 0)

        idle = _int(env, "LOUPE_SESSION_IDLE_MINUTES", 120)
        self.PERMANENT_SESSION_LIFETIME = timedelta(minutes=idle)
        self.SESSION_REFRESH_EACH_REQUEST = True
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = env.get("LOUPE_HTTPS", "") == "1"
        self.SESSION_COOKIE_NAME = "loupe_session"
        self.REMEMBER_COOKIE_HTTPONLY = True

        self.WTF_CSRF_CHECK_DEFAULT = False  # checked in one place: app/accounts/security.py
        self.WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
        self.LOGIN_RATE_LIMIT = env.get("LOUPE_LOGIN_RATE_LIMIT", "10 per minute")
        # After this many failed sign-ins for one email (known or not), that email is refused
        # for a backoff that doubles with each further failure, capped, and ends on a success.
        self.LOGIN_ACCOUNT_FAILURES = _int(env, "LOUPE_LOGIN_ACCOUNT_FAILURES", 5)
        self.LOGIN_BACKOFF_S = _int(env, "LOUPE_LOGIN_BACKOFF_S", 60)
        self.LOGIN_BACKOFF_MAX_S = _int(env, "LOUPE_LOGIN_BACKOFF_MAX_S", 15 * 60)
        # Failures older than this are forgotten (counted from the first of a series).
        self.LOGIN_FAILURE_MEMORY_S = _int(env, "LOUPE_LOGIN_FAILURE_MEMORY_S", 60 * 60)
        # The per-client limit and the per-account backoff share this storage.
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        # Off: the limiter would stamp its own window's reset as Retry-After on every answer,
        # over the account backoff's; app/core/error_handlers.py sends Retry-After on each
        # refusal instead.
        self.RATELIMIT_HEADERS_ENABLED = False

        # argon2id cost (RFC 9106's second recommended profile by default).
        self.ARGON2_TIME_COST = _int(env, "LOUPE_ARGON2_TIME_COST", 3)
        self.ARGON2_MEMORY_KIB = _int(env, "LOUPE_ARGON2_MEMORY_KIB", 64 * 1024)

        self.UPLOAD_DIR = self.DATA_DIR / "uploads"
        self.UPLOAD_MAX_BYTES = _int(env, "LOUPE_UPLOAD_MAX_BYTES", 20 * 1024**3)
        self.USER_QUOTA_BYTES = _int(env, "LOUPE_USER_QUOTA_BYTES", 200 * 1024**3)
        # An unfinished upload untouched this long is removed (each PATCH extends it).
        # How long a request waits for another one writing the same upload before a 423.
        self.UPLOAD_LOCK_WAIT_S = float(env.get("LOUPE_UPLOAD_LOCK_WAIT_S", "10"))
        self.UPLOAD_EXPIRY_HOURS = _int(env, "LOUPE_UPLOAD_EXPIRY_HOURS", 72)
        self.WORKER_CONCURRENCY = _int(env, "LOUPE_WORKER_CONCURRENCY", 1)
        # Cores transcoding may use in all: each job gets budget // concurrency ffmpeg threads
        # (at least one), and workers run niced so the web stays responsive.
        self.CORE_BUDGET = max(1, _int(env, "LOUPE_CORE_BUDGET", os.cpu_count() or 2))
        # More jobs at once than cores in the budget would overrun it even at one thread each.
        self.WORKER_CONCURRENCY = max(1, min(self.WORKER_CONCURRENCY, self.CORE_BUDGET))
        self.MEDIA_LADDER = tuple(
            int(h) for h in env.get("LOUPE_MEDIA_LADDER", "1080,720,360").split(",") if h.strip()
        )
        # EBU R128 loudness normalisation, for lessons recorded with quiet classroom microphones.
        self.MEDIA_LOUDNORM = env.get("LOUPE_MEDIA_LOUDNORM", "") == "1"
        # A processing job that has not reported for this long is presumed dead and run again.
        self.STALLED_JOB_SECONDS = _int(env, "LOUPE_STALLED_JOB_SECONDS", 300)
        # A job is tried this often (retries and stall sweeps count) before the lesson fails.
        self.MAX_JOB_ATTEMPTS = max(1, _int(env, "LOUPE_MAX_JOB_ATTEMPTS", 3))
        # The first retry of a transient failure waits this long; each further one twice as long.
        self.RETRY_BACKOFF_SECONDS = _int(env, "LOUPE_RETRY_BACKOFF_SECONDS", 30)
        # The demo district gets generated lesson videos unless this is 0 (tests bring their own).
        self.DEMO_LESSONS = env.get("LOUPE_DEMO_LESSONS", "1") != "0"
        self.SWEEP_INTERVAL_SECONDS = _int(env, "LOUPE_SWEEP_INTERVAL_SECONDS", 60)
        # WebRTC: STUN and TURN for debriefs. TURN credentials are minted per person with
        # coturn's shared secret (`use-auth-secret`, `static-auth-secret`) and expire.
        self.STUN_URLS = tuple(u for u in env.get("LOUPE_STUN_URLS", "").split(",") if u.strip())
        self.TURN_URLS = tuple(u for u in env.get("LOUPE_TURN_URLS", "").split(",") if u.strip())
        self.TURN_SECRET = env.get("LOUPE_TURN_SECRET", "")
        self.TURN_TTL_SECONDS = _int(env, "LOUPE_TURN_TTL_SECONDS", 6 * 3600)
        # The aiortc gateway (`loupe rtc-gateway`) records debriefs; the web app reaches it here.
        self.RTC_HOST = env.get("LOUPE_RTC_HOST", "127.0.0.1")
        self.RTC_PORT = _int(env, "LOUPE_RTC_PORT", 5081)
        # A live lesson whose connection dropped resumes if it comes back within this time.
        self.LIVE_GRACE_SECONDS = float(env.get("LOUPE_LIVE_GRACE_SECONDS", "60"))
        # A recording (raw classroom media) still waiting to become a lesson after this long
        # is removed by the sweep: its job died for good (a lesson's merge is limited to 6 h).
        self.RECORDING_RETENTION_HOURS = _int(env, "LOUPE_RECORDING_RETENTION_HOURS", 24)
        self.RTC_GATEWAY_URL = env.get(
            "LOUPE_RTC_GATEWAY_URL", f"http://127.0.0.1:{self.RTC_PORT}"
        ).rstrip("/")
        self.MAX_CONTENT_LENGTH = 1024 * 1024  # JSON and forms; uploads stream through tus
        self.JSON_SORT_KEYS = False


class TestConfig(Config):
    """Settings for the test suite: a throwaway data folder and no rate limit surprises."""

    TESTING = True
    __test__ = False  # a config, not a pytest test class

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self.LOGIN_RATE_LIMIT = "1000 per minute"
        # The same algorithm at a cost that keeps hundreds of test accounts quick to create.
        self.ARGON2_TIME_COST = 1
        self.ARGON2_MEMORY_KIB = 1024
