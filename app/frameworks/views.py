"""The page of a district's rubric frameworks."""

from __future__ import annotations

from flask import (
    render_template,
)

from app.accounts.security import (
    signed_in,
    signed_in_user,
)
from app.core.pages import bp
from app.frameworks import service as frameworks


@bp.get("/frameworks")
@signed_in
def frameworks_page() -> str:
    """Show the district's rubric frameworks; coaches and administrators also edit them."""
    me = signed_in_user()
    return render_template("frameworks.html", may_edit=frameworks.may_edit(me, me.organization_id))
