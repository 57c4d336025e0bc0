"""Turn any classroom upload into browser playback: HLS ladder, MP4, poster, storyboard, peaks.

A pure library (no web framework, no database): the app's job calls ``probe`` and ``process``.
"""

from __future__ import annotations

from media_pipeline.errors import PipelineError
from media_pipeline.model import (
    AudioInfo,
    FileEntry,
    Limits,
    Manifest,
    MediaInfo,
    ProcessSettings,
    Progress,
    Rendition,
    VideoInfo,
)
from media_pipeline.pipeline import PIPELINE_VERSION, process
from media_pipeline.plan import Plan, RenditionPlan, plan
from media_pipeline.probe import probe
from media_pipeline.runner import FFMPEG_RUNS

__all__ = [
    "FFMPEG_RUNS",
    "PIPELINE_VERSION",
    "AudioInfo",
    "FileEntry",
    "Limits",
    "Manifest",
    "MediaInfo",
    "PipelineError",
    "Plan",
    "ProcessSettings",
    "Progress",
    "Rendition",
    "RenditionPlan",
    "VideoInfo",
    "plan",
    "probe",
    "process",
]
