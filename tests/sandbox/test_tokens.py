"""The minimal JWT helper."""

from app.sandbox.tokens import decode_jwt, encode_jwt

SECRET = b"k" * 32


def test_round_trip() -> None:
    token = encode_jwt({"sub": "c", "exp": 10, "name": "Ayşe"}, SECRET)

    assert token.count(".") == 2
    assert decode_jwt(token, SECRET) == {"sub": "c", "exp": 10, "name": "Ayşe"}


def test_rejects_wrong_key_tampering_and_garbage() -> None:
    token = encode_jwt({"sub": "c"}, SECRET)
    header, _, signature = token.split(".")
    other_payload = encode_jwt({"sub": "d"}, SECRET).split(".")[1]

    for candidate in (
        token + "x",
        f"{header}.{other_payload}.{signature}",
        "a.b",
        "a.b.c",
        "ü.ü.ü",
        "",
    ):
        assert decode_jwt(candidate, SECRET) is None
    assert decode_jwt(token, b"other") is None


def test_rejects_alg_none() -> None:
    token = encode_jwt({"sub": "c"}, SECRET)
    _, payload, _ = token.split(".")
    none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"  # {"alg":"none","typ":"JWT"}

    assert decode_jwt(f"{none_header}.{payload}.", SECRET) is None
