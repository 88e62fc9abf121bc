"""Chat messages: sanitising and limits."""

from __future__ import annotations

import re

from studygroups.domain.errors import Invalid

MESSAGE_MAX = 500
RAW_MESSAGE_MAX = 20_000

_TAG = re.compile(r"<[^>]*>")
_UNCLOSED_TAG = re.compile(r"<[A-Za-z/!][^>]*$")


def clean_message(raw: str) -> str:
    """Strip HTML tags, trim, and require 1..500 characters of what is left.

    Tags are removed (not escaped) so `<b>hi</b>` arrives as `hi`; a dangling `<tag` at the end
    is dropped too. Entities stay as written: clients render text, never HTML.
    """
    if len(raw) > RAW_MESSAGE_MAX:
        raise Invalid(f"message must be 1..{MESSAGE_MAX} characters")
    text = _UNCLOSED_TAG.sub("", _TAG.sub("", raw)).strip()
    if not text or len(text) > MESSAGE_MAX:
        raise Invalid(f"message must be 1..{MESSAGE_MAX} characters after removing HTML tags")
    return text
