"""Who is calling: HS256 JWTs decoded into an Identity, used by both transports; and minting."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeGuard

import jwt

from studygroups.domain.errors import Unauthenticated
from studygroups.domain.text import storable

NO_TOKEN = "No token provided"
BAD_TOKEN = "Invalid or expired token"
ALGORITHM = "HS256"
CLAIM_MAX = 255  # the users table keeps id, email and name in VARCHAR(255)


@dataclass(frozen=True)
class Identity:
    user_id: str
    email: str
    name: str


@dataclass(frozen=True)
class Verified:
    """A verified token's identity and its `exp` (seconds since the epoch; None without one)."""

    identity: Identity
    expires_at: int | None


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
    return _decode(token, secret)[0]


def _decode(token: str | None, secret: str) -> tuple[Identity, _Window]:
    """The identity, and the times between which the token is valid (from iat, nbf and exp)."""
    token = strip_bearer(token)
    if token is None:
        raise Unauthenticated(NO_TOKEN)
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub"], "verify_aud": False}
        )
    except jwt.PyJWTError:
        raise Unauthenticated(BAD_TOKEN) from None
    sub, email, name = (claims.get("sub"), claims.get("email"), claims.get("name"))
    # A claim that could never be stored or sent (NUL, an unpaired surrogate) is refused, and so
    # is an id with spaces around it: `" ana"` is not `"ana"`, and is not made into her.
    if not (_usable(sub) and _usable(email) and _usable(name)) or sub != sub.strip():
        raise Unauthenticated(BAD_TOKEN)
    email, name = email.strip(), name.strip()
    # PyJWT has checked these are integers: valid while iat <= now, nbf <= now and now < exp.
    starts = [int(claims[c]) for c in ("iat", "nbf") if c in claims]
    window = (max(starts) if starts else None, int(claims["exp"]) if "exp" in claims else None)
    return Identity(user_id=sub, email=email, name=name), window


_Window = tuple[int | None, int | None]


def _usable(claim: object) -> TypeGuard[str]:
    return (
        isinstance(claim, str)
        and bool(claim.strip())
        and len(claim) <= CLAIM_MAX
        and storable(claim)
    )


class TokenCache:
    """Remembers the identity of each token it verified, so a client sending the same token on
    every request costs one signature check, not one per request. Whether the token is still
    within its time window (`iat`, `nbf`, `exp`) is checked on every use, as PyJWT does."""

    def __init__(self, capacity: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self._known: dict[tuple[str, str], tuple[Identity, _Window]] = {}
        self._capacity = capacity
        self._clock = clock

    def decode(self, token: str | None, secret: str) -> Identity:
        """What `decode_token(token, secret)` returns or raises."""
        return self.verify(token, secret).identity

    def verify(self, token: str | None, secret: str) -> Verified:
        """The identity and expiry of a token valid now; raises Unauthenticated otherwise. An
        expired token is never answered from the cache: the window is checked on every use."""
        if token is None:
            return Verified(decode_token(token, secret), None)
        key = (token, secret)
        known = self._known.get(key)
        if known is not None:
            identity, (starts, expires) = known
            now = self._clock()
            if (starts is None or starts <= now) and (expires is None or now < expires):
                return Verified(identity, expires)
            del self._known[key]
        identity, window = _decode(token, secret)
        if len(self._known) >= self._capacity:
            self._known.clear()
        self._known[key] = (identity, window)
        return Verified(identity, window[1])


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
