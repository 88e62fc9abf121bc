"""Chat messages: sanitising and limits.

Tags are stripped in one pass over the message, in time linear in its length whatever it
holds: the message comes from any signed-in user, before anything else is checked, and the
cleaning runs on the event loop. (Regular expressions that removed tags until none was left
took seconds to minutes on messages built for it: nested `<b` a thousand deep, or `<a`
followed by thousands of spaces.)
"""

from __future__ import annotations

import re

from studygroups.domain.errors import Invalid

MESSAGE_MAX = 500
RAW_MESSAGE_MAX = 20_000

# A tag starts with a letter, `/` or `!` right after `<`; "1 < 2 and 3 > 2" is text, not a tag.
_TAG_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz/!")
_ANGLES = re.compile(r"([<>])")
# A tag cut off at the end of the message (the text from its `<` on, which holds no `<` or `>`):
# a name with attributes (`<img src=x`), or a bare name (`<b`, `</b`, `<!x`).
_CUT_WITH_ATTRIBUTES = re.compile(r"<[A-Za-z][\w-]*\s[^=]*=")
_CUT_NAME = re.compile(r"<[A-Za-z/!][\w-]*")


def clean_message(raw: str) -> str:
    """Strip HTML tags, trim, and require 1..500 characters of what is left.

    Tags are removed (not escaped) so `<b>hi</b>` arrives as `hi`, comments too, and so is a tag
    that removing another one forms (`<<b>i>`); a tag cut off at the end is dropped too; `<` and
    `>` used as text stay. Entities stay as written: clients render text.
    """
    if len(raw) > RAW_MESSAGE_MAX:
        raise Invalid(f"message must be 1..{MESSAGE_MAX} characters")
    text = _without_tags(_without_comments(raw)) if "<" in raw else raw
    text = text.strip()
    if not text or len(text) > MESSAGE_MAX:
        raise Invalid(f"message must be 1..{MESSAGE_MAX} characters after removing HTML tags")
    return text


def _without_comments(text: str) -> str:
    """`<!-- … -->` removed (what they hold may contain `<` and `>`). Once a comment has no
    end, none after it has one either: each character is looked at a bounded number of times."""
    kept: list[str] = []
    at = 0
    while (start := text.find("<!--", at)) != -1:
        end = text.find("-->", start + 4)
        if end == -1:
            break
        kept.append(text[at:start])
        at = end + 3
    kept.append(text[at:])
    return "".join(kept)


def _without_tags(text: str) -> str:
    """Every `<x…>` (x a letter, `/` or `!`, no `<` or `>` inside) removed, as often as removing
    one forms another, then a tag cut off at the end. The kept pieces are a stack: a `>` closes
    a tag only with the last `<` kept, when no `>` was kept after it; removing the tag pops it,
    which leaves the `<` before it open again, as removing tags until none is left would."""
    kept: list[str] = []
    opens: list[int] = []  # where each `<` kept is in `kept`
    closes: list[int] = []  # where each `>` kept is

    def last_open() -> int | None:
        if opens and (not closes or closes[-1] < opens[-1]):
            return opens[-1]
        return None

    def cut(at: int) -> None:
        del kept[at:]
        while opens and opens[-1] >= at:
            opens.pop()
        while closes and closes[-1] >= at:
            closes.pop()

    for piece in _ANGLES.split(text):
        if piece == "<":
            opens.append(len(kept))
            kept.append(piece)
        elif piece == ">":
            start = last_open()
            if start is not None and start + 1 < len(kept) and kept[start + 1][0] in _TAG_START:
                cut(start)
            else:
                closes.append(len(kept))
                kept.append(piece)
        elif piece:
            kept.append(piece)
    while (start := last_open()) is not None:
        rest = "".join(kept[start:])
        if not (_CUT_WITH_ATTRIBUTES.match(rest) or _CUT_NAME.fullmatch(rest)):
            break
        cut(start)
    return "".join(kept)
