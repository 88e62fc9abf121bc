"""Text every database and wire format here can hold."""

from __future__ import annotations


def storable(text: str) -> bool:
    """No NUL (PostgreSQL text refuses it; SQLite keeps it) and no unpaired surrogate (a JSON
    `\\ud800` decodes to one; it has no UTF-8, so no database, no msgpack and no Redis takes it)."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
