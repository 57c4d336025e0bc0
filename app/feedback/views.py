"""The printable debrief sheet of a lesson's feedback."""

from __future__ import annotations

from flask import (
    render_template,
)

from app.accounts.security import (
    signed_in,
    signed_in_user,
)
from app.core.pages import bp
from app.feedback import sheet


@bp.get("/videos/<int:video_id>/debrief")
@signed_in
def debrief_page(video_id: int) -> str:
    """Show the printable debrief of a lesson's feedback, grouped by rubric dimension."""
    return render_template("debrief.html", sheet=sheet.debrief_sheet(signed_in_user(), video_id))
