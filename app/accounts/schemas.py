"""The shapes of people, sign-in, password resets and API tokens in the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.accounts.models import ApiToken, User
from app.core.schemas import Strict


class LoginIn(Strict):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class OrganizationOut(BaseModel):
    id: int
    name: str


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: Literal["teacher", "coach", "admin"]
    organization: OrganizationOut

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role.value,
            organization=OrganizationOut(id=user.organization.id, name=user.organization.name),
        )


class MeOut(UserOut):
    csrf_token: str = Field(
        description="Send as the X-CSRF-Token header on cookie-authenticated writes"
    )


class PersonOut(BaseModel):
    id: int
    name: str


class TokenIn(Strict):
    name: str = Field(min_length=1, max_length=100)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls(
            id=token.id,
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            revoked=token.revoked_at is not None,
        )


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The secret; shown once, never again")


class PasswordResetOut(BaseModel):
    user: UserOut
    reset_url: str = Field(
        description="Send it to the person: it works once, to choose a new password"
    )
    expires_in_days: int


class PingOut(BaseModel):
    nonce: str = Field(description="Echoed in the system.pong Socket.IO event")
