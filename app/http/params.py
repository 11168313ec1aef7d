"""Path and header parameters shared by several features' routes."""

from typing import Annotated

from fastapi import Header, Path

ID_PATTERN = r"^[A-Za-z0-9-]{1,64}$"
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9_.:-]{8,64}$"

QuoteId = Annotated[str, Path(alias="quoteId", pattern=ID_PATTERN)]
ProductId = Annotated[str, Path(alias="productId", pattern=ID_PATTERN)]


def idempotency_key(description: str) -> object:
    """The `Idempotency-Key` header, described for the route that takes it."""
    return Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN, description=description)
