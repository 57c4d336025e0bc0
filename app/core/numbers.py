"""The bounds of the whole numbers Loupe stores, and the one way to read one from text.

Every integer a client sends (a route's id, a query parameter, a header, a JSON field) is
bounded here before it reaches the database: a number past a column's range is a client's
mistake (400, or 404 for an id in a URL), never an overflow deep in a driver (500).
May use pydantic, Werkzeug and the domain errors only.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, ValidationError
from werkzeug.routing.converters import IntegerConverter

from app.core.errors import Invalid

INT_MAX = 2**31 - 1
"""The largest value of an `Integer` column (PostgreSQL's 32-bit `integer`): every id."""

BIG_MAX = 2**63 - 1
"""The largest value of a `BigInteger` column: byte counts and change counters."""

ID_MAX = INT_MAX

Id = Annotated[int, Field(ge=1, le=ID_MAX)]
"""An id of a stored row, in a request body."""

Count = Annotated[int, Field(ge=0, le=INT_MAX)]
"""A whole number stored in an `Integer` column (milliseconds, scores, versions)."""

BigCount = Annotated[int, Field(ge=0, le=BIG_MAX)]
"""A whole number stored in a `BigInteger` column (bytes, change counters)."""


def parse_whole(raw: str, *, field: str, maximum: int, minimum: int = 0) -> int:
    """Read ASCII digits as a whole number from minimum to maximum, else raise Invalid."""
    # str.isdigit() alone accepts '²' and Arabic-Indic digits, and int() accepts spaces,
    # underscores and other scripts' digits: only 0-9 are a number here.
    text = raw.strip()
    if (
        text
        and text.isascii()
        and text.isdigit()
        and len(text) <= len(str(maximum))
        and minimum <= int(text) <= maximum
    ):
        return int(text)
    raise Invalid(f"{field} must be a whole number from {minimum} to {maximum}.", field=field)


class IdConverter(IntegerConverter):
    """`<int:…>` in a route: ASCII digits naming a possible id; any other number is a 404."""

    regex = r"[0-9]{1,10}"  # ID_MAX has 10 digits; a longer number never matches the route

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(
            map,
            fixed_digits,
            1 if min is None else min,
            ID_MAX if max is None else max,
            signed,
        )

    def to_python(self, value: str) -> int:
        """Return the id; answer 404 for a number no row can have."""
        try:
            number: int = super().to_python(value)
        except ValidationError:
            # Refusing the match would make Werkzeug answer 405 when the same path has a rule
            # for another method; no such row exists, so the truthful answer is 404.
            raise NotFound("No such id.") from None
        return number
