"""Typed domain errors; each transport maps them to its own codes in exactly one place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """A request the rules refuse. `message` is safe to show to the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(DomainError):
    """The input is malformed or out of range (HTTP 400, ack BAD_REQUEST)."""


class Unauthenticated(DomainError):
    """No identity, or an identity that cannot be trusted (HTTP 401, ack UNAUTHORIZED)."""


class Forbidden(DomainError):
    """The caller is known but not allowed (HTTP 403, ack FORBIDDEN)."""


class NotFound(DomainError):
    """An id that does not exist, or that the caller may not know of (HTTP 404)."""


class Conflict(DomainError):
    """A state rule refuses the change: illegal transition, finished session (HTTP 409)."""


class GateNotMet(Conflict):
    """A round cannot advance yet: `missing` lists who has not acted."""

    def __init__(self, message: str, required: int, current: int, missing: Sequence[str]) -> None:
        super().__init__(message)
        self.required = required
        self.current = current
        self.missing = list(missing)


class RateLimited(DomainError):
    """Too many requests in too short a time (HTTP 429, ack RATE_LIMITED)."""


def closest(error: DomainError, table: Mapping[type[DomainError], T], default: T) -> T:
    """A transport's entry for the error's most specific kind in `table` (GateNotMet falls
    back to Conflict's, for instance), or `default`."""
    for kind in type(error).__mro__:
        if kind in table:
            return table[kind]
    return default
