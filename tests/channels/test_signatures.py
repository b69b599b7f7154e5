"""Signature helpers against the spec's test vectors, plus forged and missing values."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from socialdesk.channels.signatures import (
    MAX_CRC_TOKEN_LENGTH,
    appsecret_proof,
    constant_time_equals,
    is_token_shaped,
    meta_signature,
    verify_meta_signature,
    verify_x_signature,
    x_crc_response_token,
    x_signature,
)

X_SECRET = "test_consumer_secret"
X_BODY = b'{"for_user_id":"2244994945","tweet_create_events":[]}'
X_BODY_SIGNATURE = "sha256=Lss4bxd6weR99So6MmhnJFpNn8h7oFFhZH5um9Z5oF4="
META_SECRET = "test_app_secret"
META_BODY = b'{"object":"page","entry":[]}'
META_BODY_SIGNATURE = "sha256=5da47c9c7409e70d7a1851f0cfd9bc27786bd99587a9bf1dd5b51e23a2de03cf"


def test_x_crc_vector() -> None:
    assert (
        x_crc_response_token(X_SECRET, "challenge_string")
        == "sha256=583uAmerwtjpykYEAEm+CEIRm6dOywK4QKRr0ha/Pd4="
    )


def test_x_body_vector() -> None:
    assert x_signature(X_SECRET, X_BODY) == X_BODY_SIGNATURE
    assert verify_x_signature(X_SECRET, X_BODY, X_BODY_SIGNATURE)


def test_meta_body_vector() -> None:
    assert meta_signature(META_SECRET, META_BODY) == META_BODY_SIGNATURE
    assert verify_meta_signature(META_SECRET, META_BODY, META_BODY_SIGNATURE)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha256=Lss4bxd6weR99So6MmhnJFpNn8h7oFFhZH5um9Z5oF4",  # truncated
        "sha256=Mss4bxd6weR99So6MmhnJFpNn8h7oFFhZH5um9Z5oF4=",  # one character off
        "Lss4bxd6weR99So6MmhnJFpNn8h7oFFhZH5um9Z5oF4=",  # prefix missing
        "sha1=Lss4bxd6weR99So6MmhnJFpNn8h7oFFhZH5um9Z5oF4=",
        "sha256=Lss4bxd6weR99So6MmhnJFpNn8h7oFFhZH5um9Z5oF4=\u00e9",
    ],
)
def test_x_forged_or_missing_signatures_fail(header: str | None) -> None:
    assert not verify_x_signature(X_SECRET, X_BODY, header)


def test_x_signature_is_over_exact_bytes() -> None:
    reserialised = b'{"for_user_id": "2244994945", "tweet_create_events": []}'
    assert not verify_x_signature(X_SECRET, reserialised, X_BODY_SIGNATURE)
    assert not verify_x_signature("other_secret", X_BODY, X_BODY_SIGNATURE)
    assert not verify_x_signature("", X_BODY, X_BODY_SIGNATURE)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "5da47c9c7409e70d7a1851f0cfd9bc27786bd99587a9bf1dd5b51e23a2de03cf",
        "sha256=5da47c9c7409e70d7a1851f0cfd9bc27786bd99587a9bf1dd5b51e23a2de03ce",
        "sha1=5da47c9c7409e70d7a1851f0cfd9bc27786bd99587a9bf1dd5b51e23a2de03cf",
        "sha256=" + hmac.new(b"test_app_secret", META_BODY, hashlib.sha1).hexdigest(),
    ],
)
def test_meta_forged_or_missing_signatures_fail(header: str | None) -> None:
    assert not verify_meta_signature(META_SECRET, META_BODY, header)


def test_meta_uppercase_hex_is_the_same_digest() -> None:
    upper = "sha256=" + META_BODY_SIGNATURE.removeprefix("sha256=").upper()
    assert verify_meta_signature(META_SECRET, META_BODY, upper)


def test_meta_signature_is_over_escaped_bytes() -> None:
    escaped = b'{"message":"Gr\\u00fc\\u00dfe"}'
    raw_utf8 = '{"message":"Grüße"}'.encode()
    signature = meta_signature(META_SECRET, escaped)
    assert verify_meta_signature(META_SECRET, escaped, signature)
    assert not verify_meta_signature(META_SECRET, raw_utf8, signature)


def test_appsecret_proof_is_hex_hmac_of_the_token() -> None:
    expected = hmac.new(b"test_app_secret", b"EAAtoken", hashlib.sha256).hexdigest()
    assert appsecret_proof(META_SECRET, "EAAtoken") == expected


@pytest.mark.parametrize(
    "token",
    [
        "",
        "x" * (MAX_CRC_TOKEN_LENGTH + 1),
        "has space",
        "new\nline",
        "tab\there",
        "nul\x00byte",
        "caf\u00e9",
        '{"for_user_id":"1","tweet_create_events":[]}'.replace('"', "") + " ",
    ],
)
def test_crc_refuses_tokens_that_are_not_token_shaped(token: str) -> None:
    assert not is_token_shaped(token)
    with pytest.raises(ValueError):
        x_crc_response_token(X_SECRET, token)


def test_crc_accepts_realistic_tokens() -> None:
    token = "NjBmMjYxNzEtNWQ0Zi00ZTEwLWE0NTgtOTk3MmU5NzIwMzY0"
    assert is_token_shaped(token)
    assert x_crc_response_token(X_SECRET, token).startswith("sha256=")
    assert is_token_shaped("x" * MAX_CRC_TOKEN_LENGTH)


def test_missing_secrets_refuse_to_sign() -> None:
    with pytest.raises(ValueError):
        x_signature("", X_BODY)
    with pytest.raises(ValueError):
        meta_signature("", META_BODY)
    with pytest.raises(ValueError):
        x_crc_response_token("", "challenge_string")


def test_constant_time_equals() -> None:
    assert constant_time_equals("abc", "abc")
    assert not constant_time_equals("abc", "abd")
    assert not constant_time_equals("abc", "abcd")
