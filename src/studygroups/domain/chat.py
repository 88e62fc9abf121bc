"""Chat messages: sanitising and limits."""

from __future__ import annotations

import re

from studygroups.domain.errors import Invalid

MESSAGE_MAX = 500
RAW_MESSAGE_MAX = 20_000

# A tag starts with a letter, `/` or `!` right after `<`; "1 < 2 and 3 > 2" is text, not a tag.
_TAG = re.compile(r"<!--.*?-->|<[A-Za-z/!][^<>]*>", re.DOTALL)
# A tag cut off at the end of the message, such as `<img src=x`, is dropped too.
_UNCLOSED_TAG = re.compile(r"<(?:[A-Za-z][\w-]*\s+[^<>]*=[^<>]*|[A-Za-z/!][\w-]*)$")


def clean_message(raw: str) -> str:
    """Strip HTML tags, trim, and require 1..500 characters of what is left.

    Tags are removed (not escaped) so `<b>hi</b>` arrives as `hi`; a tag cut off at the end is
    dropped too; `<` and `>` used as text stay. Entities stay as written: clients render text.
    """
    if len(raw) > RAW_MESSAGE_MAX:
        raise Invalid(f"message must be 1..{MESSAGE_MAX} characters")
    text, previous = raw, None
    while text != previous:  # removing one tag can join the pieces of another: `<<b>i>`
        previous, text = text, _UNCLOSED_TAG.sub("", _TAG.sub("", text))
    text = text.strip()
    if not text or len(text) > MESSAGE_MAX:
        raise Invalid(f"message must be 1..{MESSAGE_MAX} characters after removing HTML tags")
    return text
