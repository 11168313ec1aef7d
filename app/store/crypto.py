"""AES-GCM sealing of everything secret we keep in Redis (InsurUp tokens above all).

Blob layout: key id (4 bytes) | nonce (12 bytes) | ciphertext+tag. The key id is a digest of
the key, so operators may reorder `BFF_SESSION_KEYS`; the first key seals, every key opens.
The associated data binds a blob to its session and field, so blobs cannot be swapped.
"""

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE = 12
_KID = 4


class SealError(Exception):
    """A blob that no configured key opens (tampered, or sealed by a retired key)."""


class Sealer:
    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._sealing_kid = self._kid(keys[0])
        self._ciphers = {self._kid(key): AESGCM(key) for key in keys}
        # A separate key for keyed digests, derived so it never equals the sealing key.
        self._digest_key = hmac.new(keys[0], b"kasko-gateway digest", hashlib.sha256).digest()

    @staticmethod
    def _kid(key: bytes) -> bytes:
        return hashlib.sha256(b"kid" + key).digest()[:_KID]

    def seal(self, plaintext: bytes, *, context: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        sealed = self._ciphers[self._sealing_kid].encrypt(nonce, plaintext, context)
        return self._sealing_kid + nonce + sealed

    def open(self, blob: bytes, *, context: bytes) -> bytes:
        cipher = self._ciphers.get(blob[:_KID])
        if cipher is None:
            raise SealError("no key for this blob")
        try:
            return cipher.decrypt(blob[_KID : _KID + _NONCE], blob[_KID + _NONCE :], context)
        except InvalidTag as exc:
            raise SealError("blob does not open") from exc

    def digest(self, value: str) -> str:
        """A keyed digest for personal data used as a key (identity numbers in rate limits):
        a plain hash of an 11-digit number is reversed by brute force in minutes."""
        return hmac.new(self._digest_key, value.encode(), hashlib.sha256).hexdigest()[:32]
