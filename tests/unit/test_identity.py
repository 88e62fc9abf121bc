"""Who is calling: HS256 tokens decoded into an Identity, and the token TTL syntax."""

from __future__ import annotations

import time

import jwt
import pytest

from studygroups.domain.errors import Unauthenticated
from studygroups.identity import (
    BAD_TOKEN,
    CLAIM_MAX,
    NO_TOKEN,
    Identity,
    TokenCache,
    decode_token,
    mint_token,
    parse_ttl,
    strip_bearer,
)

# 64 bytes or more, so PyJWT does not warn even for the HS512 token below.
SECRET = "unit-test-secret-" + "s" * 64
OTHER_SECRET = "another-secret-" + "o" * 64
CLAIMS: dict[str, object] = {"sub": "u1", "email": "ana@example.com", "name": "Ana"}
ANA = Identity(user_id="u1", email="ana@example.com", name="Ana")


def _token(claims: dict[str, object], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


# --- accepted ------------------------------------------------------------------------------------


def test_a_valid_token_decodes_to_its_identity() -> None:
    assert decode_token(_token(CLAIMS), SECRET) == ANA


@pytest.mark.parametrize("prefix", ["Bearer ", "bearer ", "BEARER ", "  Bearer   "])
def test_a_valid_token_with_a_bearer_prefix_is_accepted(prefix: str) -> None:
    assert decode_token(prefix + _token(CLAIMS), SECRET) == ANA


def test_a_token_that_has_not_expired_is_accepted() -> None:
    claims = {**CLAIMS, "exp": int(time.time()) + 60}

    assert decode_token(_token(claims), SECRET) == ANA


def test_the_email_and_name_claims_are_trimmed() -> None:
    claims: dict[str, object] = {"sub": "u1", "email": " ana@example.com", "name": "Ana\n"}

    assert decode_token(_token(claims), SECRET) == ANA


def test_extra_claims_are_ignored() -> None:
    claims = {**CLAIMS, "aud": "somewhere", "role": "admin", "iat": int(time.time())}

    assert decode_token(_token(claims), SECRET) == ANA


def test_a_minted_token_round_trips() -> None:
    token = mint_token(SECRET, sub="u9", name="Bo", email="bo@example.com", ttl_seconds=60)

    assert decode_token(token, SECRET) == Identity(user_id="u9", email="bo@example.com", name="Bo")


def test_a_minted_token_without_ttl_has_no_expiry() -> None:
    token = mint_token(SECRET, sub="u9", name="Bo", email="bo@example.com", ttl_seconds=None)

    claims = jwt.decode(token, SECRET, algorithms=["HS256"])

    assert "exp" not in claims
    assert decode_token(token, SECRET).user_id == "u9"


def test_a_minted_token_expires_after_its_ttl() -> None:
    before = int(time.time())

    token = mint_token(SECRET, sub="u9", name="Bo", email="bo@example.com", ttl_seconds=900)

    exp = jwt.decode(token, SECRET, algorithms=["HS256"])["exp"]
    assert before + 900 <= exp <= int(time.time()) + 900


# --- refused: no token ---------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "   "])
def test_a_missing_token_is_unauthenticated_with_no_token_provided(token: str | None) -> None:
    with pytest.raises(Unauthenticated) as refused:
        decode_token(token, SECRET)

    assert refused.value.message == NO_TOKEN == "No token provided"


@pytest.mark.parametrize("token", ["Bearer ", "Bearer  \t", "bearer\n"])
def test_a_bearer_prefix_with_nothing_after_it_is_no_token_provided(token: str) -> None:
    with pytest.raises(Unauthenticated) as refused:
        decode_token(token, SECRET)

    assert refused.value.message == NO_TOKEN


# --- refused: bad token --------------------------------------------------------------------------


def _assert_bad(token: str) -> None:
    with pytest.raises(Unauthenticated) as refused:
        decode_token(token, SECRET)
    assert refused.value.message == BAD_TOKEN == "Invalid or expired token"


def test_a_token_signed_with_another_secret_is_invalid() -> None:
    _assert_bad(_token(CLAIMS, secret=OTHER_SECRET))


def test_an_expired_token_is_invalid() -> None:
    _assert_bad(_token({**CLAIMS, "exp": int(time.time()) - 10}))


def test_a_minted_token_with_a_negative_ttl_is_already_expired() -> None:
    _assert_bad(mint_token(SECRET, sub="u1", name="Ana", email="a@example.com", ttl_seconds=-5))


@pytest.mark.parametrize("claim", ["sub", "email", "name"])
def test_a_token_missing_a_required_claim_is_invalid(claim: str) -> None:
    claims = {key: value for key, value in CLAIMS.items() if key != claim}

    _assert_bad(_token(claims))


@pytest.mark.parametrize("claim", ["sub", "email", "name"])
@pytest.mark.parametrize("value", ["", "   ", 42, None, ["u1"]])
def test_a_token_with_an_empty_or_non_string_claim_is_invalid(claim: str, value: object) -> None:
    _assert_bad(_token({**CLAIMS, claim: value}))


@pytest.mark.parametrize("sub", [" u1", "u1 ", "u1\n", "\u00a0u1"])
def test_a_user_id_with_spaces_around_it_is_invalid_not_taken_for_another_user(sub: str) -> None:
    _assert_bad(_token({**CLAIMS, "sub": sub}))


@pytest.mark.parametrize("claim", ["sub", "email", "name"])
@pytest.mark.parametrize("text", ["Eve\ud800", "\udfff", "Eve\x00"])
def test_a_claim_no_database_or_wire_format_can_hold_is_invalid(claim: str, text: str) -> None:
    # A JavaScript issuer cutting a name in the middle of an emoji signs an unpaired surrogate.
    _assert_bad(_token({**CLAIMS, claim: text}))


def test_a_claim_with_an_emoji_and_accents_is_accepted() -> None:
    claims = {**CLAIMS, "name": "Zoë 🦊"}

    assert decode_token(_token(claims), SECRET).name == "Zoë 🦊"


@pytest.mark.parametrize("claim", ["sub", "email", "name"])
def test_a_token_with_an_overlong_claim_is_invalid(claim: str) -> None:
    _assert_bad(_token({**CLAIMS, claim: "x" * (CLAIM_MAX + 1)}))


def test_a_claim_of_the_maximum_length_is_accepted() -> None:
    identity = decode_token(_token({**CLAIMS, "name": "n" * CLAIM_MAX}), SECRET)

    assert identity.name == "n" * CLAIM_MAX


@pytest.mark.parametrize(
    "garbage",
    ["garbage", "a.b.c", "Bearer nonsense", "eyJhbGciOiJIUzI1NiJ9..", "Basic dTE6cHc="],
)
def test_a_garbage_token_is_invalid(garbage: str) -> None:
    _assert_bad(garbage)


def test_a_token_signed_with_another_algorithm_is_invalid() -> None:
    _assert_bad(_token(CLAIMS, algorithm="HS512"))


def test_an_unsigned_token_is_invalid() -> None:
    _assert_bad(jwt.encode(CLAIMS, key=None, algorithm="none"))


def test_a_tampered_token_is_invalid() -> None:
    header, _, signature = _token(CLAIMS).split(".")
    forged_body = _token({**CLAIMS, "sub": "admin"}, secret=OTHER_SECRET).split(".")[1]

    _assert_bad(f"{header}.{forged_body}.{signature}")


def test_refusal_messages_mention_token_so_clients_refresh() -> None:
    assert "token" in NO_TOKEN
    assert "token" in BAD_TOKEN


# --- strip_bearer --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stripped"),
    [
        ("abc", "abc"),
        ("Bearer abc", "abc"),
        ("bearer   abc  ", "abc"),
        ("  abc  ", "abc"),
        ("Bearerabc", "Bearerabc"),
        ("Bearer ", None),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_strip_bearer_accepts_bare_or_prefixed_tokens(
    raw: str | None, stripped: str | None
) -> None:
    assert strip_bearer(raw) == stripped


# --- parse_ttl -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("8h", 28_800),
        ("7d", 604_800),
        ("120", 120),
        (" 15M ", 900),
        ("1D", 86_400),
    ],
)
def test_parse_ttl_reads_seconds_minutes_hours_days_or_plain_seconds(
    text: str, seconds: int
) -> None:
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["", "s", "abc", "5x", "1.5h", "h5", "5 m m"])
def test_parse_ttl_refuses_malformed_text(text: str) -> None:
    with pytest.raises(ValueError, match="ttl must look like"):
        parse_ttl(text)


@pytest.mark.parametrize("text", ["0", "0s", "-5", "-1h"])
def test_parse_ttl_refuses_zero_or_negative_durations(text: str) -> None:
    with pytest.raises(ValueError, match="ttl must be positive"):
        parse_ttl(text)


# --- the cache of verified tokens ----------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _count_verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    verified: list[str] = []
    real = jwt.decode

    def counting(token: str, *args: object, **kwargs: object) -> object:
        verified.append(token)
        return real(token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", counting)
    return verified


def test_a_cached_token_answers_as_decode_token_does(monkeypatch: pytest.MonkeyPatch) -> None:
    verified = _count_verifications(monkeypatch)
    cache = TokenCache()
    token = "Bearer " + _token(CLAIMS)

    assert cache.decode(token, SECRET) == ANA
    assert cache.decode(token, SECRET) == ANA
    assert len(verified) == 1
    with pytest.raises(Unauthenticated) as refused:
        cache.decode(token, OTHER_SECRET)  # the secret is part of what was verified
    assert refused.value.message == BAD_TOKEN
    for missing in [None, "", "Bearer "]:
        with pytest.raises(Unauthenticated) as refused:
            cache.decode(missing, SECRET)
        assert refused.value.message == NO_TOKEN


def test_a_cached_token_is_verified_again_outside_its_iat_nbf_exp_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verified = _count_verifications(monkeypatch)
    clock = _Clock()
    cache = TokenCache(clock=clock)
    now = int(clock.now)
    token = _token({**CLAIMS, "iat": now - 5, "nbf": now - 1, "exp": now + 60})
    for moment, verifications in [
        (now, 1),  # first sight
        (now + 59.5, 1),  # within the window: the cached answer
        (now + 60, 2),  # at exp, as PyJWT counts it: verified again (by the real clock)
        (now - 1, 2),  # at nbf: within
        (now - 1.5, 3),  # before nbf (the wall clock went back): verified again
    ]:
        clock.now = moment
        assert cache.decode(token, SECRET) == ANA
        assert len(verified) == verifications, moment - now


def test_a_cached_token_is_refused_once_expired() -> None:
    cache = TokenCache()
    expires = int(time.time()) + 1
    token = _token({**CLAIMS, "exp": expires})
    assert cache.decode(token, SECRET) == ANA

    time.sleep(max(0.0, expires - time.time()) + 0.01)
    with pytest.raises(Unauthenticated) as refused:
        cache.decode(token, SECRET)
    assert refused.value.message == BAD_TOKEN


def test_the_cache_forgets_everything_when_full() -> None:
    cache = TokenCache(capacity=2)
    tokens = [_token({**CLAIMS, "n": n}) for n in range(5)]

    assert all(cache.decode(token, SECRET) == ANA for token in tokens)
    assert len(cache._known) <= 2
