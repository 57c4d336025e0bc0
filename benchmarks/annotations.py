"""Measure the create-annotation API under 50 concurrent writers, on SQLite and PostgreSQL.

Starts a real `loupe serve --no-worker` (gunicorn, 64 threads) per database, makes one lesson
shared for comment with the demo coaches, and has 50 writers post annotations to that ONE
lesson — the worst case, since writers on one lesson take its change counter in turn. Two
loads:

- paced: every writer posts at random moments, on average every --pace seconds (default 5:
  10 writes/s in all, a hundred times what 50 coaches typing comments produce) — the
  latency people feel;
- flat out: every writer posts back to back — the capacity, and the queueing beyond it.

Then it reads the lesson's first 1,000 annotations in one call. Run by hand:

    .venv/bin/python benchmarks/annotations.py [--writes 40] [--pg postgresql://…/postgres]

PostgreSQL uses a throwaway database `loupe_bench` created on the given server.
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time

import requests
from harness import serve

WRITERS = 50
COACHES = ["maya.chen@riverbend.example", "david.okafor@riverbend.example"]


def prepare() -> tuple[int, list[str]]:
    """Create the lesson the writers annotate, shared for comment with the coaches, and a
    personal token for each coach."""
    from app import create_app
    from app.accounts import service as accounts
    from app.accounts import tokens as api_tokens
    from app.lessons import service as videos

    with create_app().app_context():
        ana = accounts.find_user_by_email("ana.lopez@riverbend.example")
        assert ana is not None
        video = videos.create_video(ana, title="Benchmark lesson")
        tokens = []
        for email in COACHES:
            videos.share_video(ana, video.id, email, "comment")
            coach = accounts.find_user_by_email(email)
            assert coach is not None
            tokens.append(api_tokens.create_api_token(coach, "benchmark")[1])
        return video.id, tokens


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def run_load(
    url: str, tokens: list[str], video_id: int, writes: int, pace: float | None
) -> tuple[list[float], int, float]:
    """Have the writers post; return latencies (ms), errors and wall seconds."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start_gate = threading.Barrier(WRITERS + 1)

    def writer(n: int) -> None:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {tokens[n % len(tokens)]}"
        rng = random.Random(n)
        mine: list[float] = []
        start_gate.wait()
        for i in range(writes):
            if pace:
                time.sleep(rng.expovariate(1 / pace))  # pacing the load, not synchronising
            started = time.perf_counter()
            answer = http.post(
                f"{url}/api/videos/{video_id}/annotations",
                json={
                    "start_ms": rng.randrange(0, 45 * 60 * 1000),
                    "body": f"Writer {n} note {i}: students **explained** their reasoning.",
                    "kind": "note",
                },
                timeout=60,
            )
            mine.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 201:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    start_gate.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    return latencies, errors[0], time.perf_counter() - began


def bench(name: str, database_url: str | None, writes: int, pace: float, port: int) -> None:
    env = {"LOUPE_DATABASE_URL": database_url} if database_url else {}
    with serve(port, prefix="loupe-annotation-bench-", **env) as server:
        url = server.url
        video_id, tokens = prepare()
        run_load(url, tokens, video_id, 2, None)  # warm up connections and caches
        for label, paced in ((f"every ~{pace:g} s", pace), ("flat out", None)):
            lat, errors, wall = run_load(url, tokens, video_id, writes, paced)
            print(
                f"{name:<10} {label:<13} n={len(lat):5d} err={errors:3d} "
                f"p50={statistics.median(lat):6.1f} p95={percentile(lat, 95):6.1f} "
                f"p99={percentile(lat, 99):6.1f} max={max(lat):7.1f} ms  "
                f"{len(lat) / wall:6.0f} writes/s"
            )
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {tokens[0]}"
        started = time.perf_counter()
        page = http.get(f"{url}/api/videos/{video_id}/annotations?limit=1000", timeout=60)
        took = (time.perf_counter() - started) * 1000
        count = len(page.json()["annotations"])
        print(f"{name:<10} list 1,000     {count} annotations in {took:.0f} ms")


def fresh_postgres(admin_url: str) -> str:
    """Create the throwaway benchmark database and return its URL."""
    import sqlalchemy as sa

    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("DROP DATABASE IF EXISTS loupe_bench"))
        conn.execute(sa.text("CREATE DATABASE loupe_bench"))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/loupe_bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=40, help="annotations per writer and load")
    parser.add_argument("--port", type=int, default=5097)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pace", type=float, default=5.0, help="mean seconds between posts")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(f"{WRITERS} concurrent writers on one lesson, {args.writes} annotations each per load")
    if args.only in (None, "sqlite"):
        bench("sqlite", None, args.writes, args.pace, args.port)
    if args.only in (None, "postgresql"):
        bench("postgresql", fresh_postgres(args.pg), args.writes, args.pace, args.port + 1)
    print("target: p99 < 50 ms")


if __name__ == "__main__":
    main()
