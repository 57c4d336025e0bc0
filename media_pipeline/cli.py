"""Command line: ``python -m media_pipeline probe FILE`` and ``... process INPUT OUTDIR``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from media_pipeline.errors import PipelineError
from media_pipeline.model import ProcessSettings, Progress
from media_pipeline.pipeline import process
from media_pipeline.probe import probe


def _ladder(text: str) -> tuple[int, ...]:
    try:
        rungs = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError("ladder must be heights like 1080,720,360") from exc
    if not rungs or any(r < 2 or r > 4320 for r in rungs):
        raise argparse.ArgumentTypeError("ladder must be heights like 1080,720,360")
    return rungs


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("must be a positive whole number") from exc
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m media_pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_probe = sub.add_parser("probe", help="print what ffprobe sees, as JSON")
    p_probe.add_argument("file", type=Path)
    p_proc = sub.add_parser("process", help="make playback files; progress as JSON on stderr")
    p_proc.add_argument("input", type=Path)
    p_proc.add_argument("outdir", type=Path)
    p_proc.add_argument("--ladder", type=_ladder, default=ProcessSettings().ladder)
    p_proc.add_argument("--threads", type=_positive, default=ProcessSettings().threads)
    p_proc.add_argument("--preset", default=ProcessSettings().preset)
    p_proc.add_argument("--loudnorm", action="store_true")
    p_proc.add_argument("--force-encode", action="store_true", help="never stream-copy")
    return parser


def _report(progress: Progress) -> None:
    print(json.dumps(progress.to_dict()), file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status (0 ok, 1 failed, 2 usage)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "probe":
            print(json.dumps(probe(args.file).to_dict(), indent=2))
            return 0
        settings = ProcessSettings(
            ladder=args.ladder,
            threads=args.threads,
            preset=args.preset,
            loudnorm=args.loudnorm,
            force_encode=args.force_encode,
        )
        manifest = process(args.input, args.outdir, settings, on_progress=_report)
    except PipelineError as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: Processing was cancelled.", file=sys.stderr)
        return 1
    summary = {
        "manifest": str(Path(args.outdir) / "manifest.json"),
        "renditions": [f"{r.name}:{r.plan}" for r in manifest.renditions],
        "time_to_playable_s": manifest.timings.get("time_to_playable_s"),
        "total_s": manifest.timings.get("total_s"),
    }
    print(json.dumps(summary))
    return 0
