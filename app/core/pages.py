"""The `web` blueprint every feature's pages are routes of.

One blueprint for the pages keeps their endpoint names (`web.home`, `web.video_page` …) that
the templates' url_for() calls use; the templates are the app's own (app/templates).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("web", __name__)
