"""Policies: the summary, the PDF (streamed, never buffered) and sending it by e-mail."""

import re

from app.errors import FieldError, ValidationFailed
from app.insurup.client import Download, InsurUpClient
from app.policies.schemas import PolicyRead
from app.quotes.normalize import CURRENCIES
from app.quotes.schemas import Insurer
from app.session.tokens import TokenKeeper
from app.store.cache import ReferenceCache
from app.store.sessions import SessionRecord

_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class PolicyService:
    def __init__(
        self, *, client: InsurUpClient, tokens: TokenKeeper, cache: ReferenceCache
    ) -> None:
        self._client = client
        self._tokens = tokens
        self._cache = cache

    async def read(self, record: SessionRecord, policy_id: str) -> PolicyRead:
        wire = await self._tokens.call(
            record, lambda t: self._client.policy(token=t, policy_id=policy_id)
        )
        insurers = await self._insurers(record)
        insurer_id = wire.insurance_company_id
        name, logo = insurers.get(str(insurer_id), ("", None))
        return PolicyRead(
            policy_id=wire.id,
            policy_number=wire.policy_number,
            insurer=Insurer(id=insurer_id, name=name, logo_url=logo),
            start_date=wire.start_date,
            end_date=wire.end_date,
            gross_premium=wire.gross_premium,
            currency=CURRENCIES.get(wire.currency or "", wire.currency),
            state=wire.state.lower() if wire.state else None,
        )

    async def _insurers(self, record: SessionRecord) -> dict[str, tuple[str, str | None]]:
        async def load() -> dict[str, tuple[str, str | None]]:
            wires = await self._tokens.call(
                record, lambda t: self._client.insurance_companies(token=t)
            )
            return {str(w.id): (w.name, w.logo) for w in wires}

        cached = await self._cache.get_or_load("insurance-companies", load)
        return {key: (value[0], value[1]) for key, value in cached.items()}

    async def document(self, record: SessionRecord, policy_id: str) -> tuple[str, Download]:
        """The download's file name and the open stream (closed by whoever reads it)."""
        policy = await self.read(record, policy_id)
        number = _FILENAME_UNSAFE.sub("_", policy.policy_number or policy.policy_id)
        download = await self._tokens.call(
            record, lambda t: self._client.open_policy_document(token=t, policy_id=policy_id)
        )
        return f"kasko-{number}.pdf", download

    async def send(self, record: SessionRecord, policy_id: str, email: str | None) -> None:
        if email is None:
            customer = await self._tokens.call(record, lambda t: self._client.customer_me(token=t))
            email = customer.primary_email
        if not email:
            raise ValidationFailed(
                "InsurUp has no e-mail address for this customer",
                errors=[FieldError("email", "is required: no e-mail address is on file")],
            )
        address = email
        await self._tokens.call(
            record,
            lambda t: self._client.send_policy_document(
                token=t, policy_id=policy_id, customer_id=record.customer_id, email=address
            ),
        )
