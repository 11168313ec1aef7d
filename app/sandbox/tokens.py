"""Minimal HS256 JWTs (header.payload.signature, base64url JSON) and opaque tokens."""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any

PROCESS_SECRET = secrets.token_bytes(32)
"""Per-process signing key: tokens do not survive a restart, as with a real key rotation."""

_HEADER = {"alg": "HS256", "typ": "JWT"}


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def encode_jwt(claims: Mapping[str, Any], secret: bytes) -> str:
    signing_input = f"{_b64encode(_json(_HEADER))}.{_b64encode(_json(claims))}"
    signature = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64encode(signature)}"


def decode_jwt(token: str, secret: bytes) -> dict[str, Any] | None:
    """Claims of a well-formed token with a valid HS256 signature, else None.

    Expiry is not checked here (the caller owns the clock).
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    header_b64, payload_b64, signature_b64 = parts
    try:
        header = json.loads(_b64decode(header_b64))
        claims = json.loads(_b64decode(payload_b64))
        signature = _b64decode(signature_b64)
    except (ValueError, binascii.Error):
        return None
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
        return None
    expected = hmac.new(secret, f"{header_b64}.{payload_b64}".encode("ascii"), hashlib.sha256)
    if not hmac.compare_digest(expected.digest(), signature):
        return None
    return claims


def opaque_token(prefix: str) -> str:
    """Random bearer-style token for MFA and refresh tokens."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"
