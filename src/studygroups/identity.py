"""Who is calling: HS256 JWTs decoded into an Identity, used by both transports; and minting."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from studygroups.domain.errors import Unauthenticated

NO_TOKEN = "No token provided"
BAD_TOKEN = "Invalid or expired token"
ALGORITHM = "HS256"
CLAIM_MAX = 255  # the users table keeps id, email and name in VARCHAR(255)


@dataclass(frozen=True)
class Identity:
    user_id: str
    email: str
    name: str


def strip_bearer(token: str | None) -> str | None:
    """Accept `Bearer <jwt>` as well as the bare token; blank means none."""
    if token is None:
        return None
    token = token.strip()
    if token.lower() == "bearer" or token[:7].lower() in ("bearer ", "bearer\t", "bearer\n"):
        token = token[6:].strip()
    return token or None


def decode_token(token: str | None, secret: str) -> Identity:
    """Check signature, `exp` when present, and the claims sub, email and name."""
    token = strip_bearer(token)
    if token is None:
        raise Unauthenticated(NO_TOKEN)
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub"], "verify_aud": False}
        )
    except jwt.PyJWTError:
        raise Unauthenticated(BAD_TOKEN) from None
    values = [claims.get("sub"), claims.get("email"), claims.get("name")]
    if not all(isinstance(v, str) and v.strip() and len(v) <= CLAIM_MAX for v in values):
        raise Unauthenticated(BAD_TOKEN)
    sub, email, name = (str(v).strip() for v in values)
    return Identity(user_id=sub, email=email, name=name)


def mint_token(secret: str, sub: str, name: str, email: str, ttl_seconds: int | None) -> str:
    """A signed token for local development and tests."""
    now = int(time.time())
    claims: dict[str, object] = {"sub": sub, "name": name, "email": email, "iat": now}
    if ttl_seconds is not None:
        claims["exp"] = now + ttl_seconds
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def parse_ttl(text: str) -> int:
    """`90s`, `15m`, `8h`, `7d` or plain seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    try:
        value = int(text[:-1]) * units[text[-1]] if text and text[-1] in units else int(text)
    except ValueError:
        raise ValueError(f"ttl must look like 90s, 15m, 8h or 7d, got {text!r}") from None
    if value <= 0:
        raise ValueError("ttl must be positive")
    return value
