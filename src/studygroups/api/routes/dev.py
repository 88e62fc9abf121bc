"""Development sign-in: POST /dev/token mints a token for a name (API.md section 8).

Served only where the server generated its own secret (no JWT_SECRET) or DEV_LOGIN=1; the app
does not mount this router otherwise, so the path is an ordinary 404. Anyone who can reach a
server with it on can act as any user: docs/security.md "Development sign-in".
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StringConstraints

from studygroups.api.deps import State
from studygroups.identity import CLAIM_MAX, mint_token

router = APIRouter(tags=["development"])
log = logging.getLogger("studygroups.dev")

Claim = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=CLAIM_MAX)]


class DevTokenRequest(BaseModel):
    sub: Claim
    name: Claim
    email: Claim


class DevToken(BaseModel):
    token: str
    token_type: str = "Bearer"
    expires_in: int = Field(description="seconds until the token's exp")
    sub: str
    name: str
    email: str


@router.post("/dev/token")
async def dev_token(body: DevTokenRequest, state: State, request: Request) -> DevToken:
    """Mint a token for any user (development only; 404 where it is off)."""
    ttl = state.dev_token_ttl_seconds
    token = mint_token(state.jwt_secret, body.sub, body.name, body.email, ttl)
    request.app.state.metrics.dev_tokens_minted.inc()
    log.info("dev token minted for sub=%r", body.sub)
    return DevToken(token=token, expires_in=ttl, sub=body.sub, name=body.name, email=body.email)
