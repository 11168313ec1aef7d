"""Policies: the summary, the PDF (streamed, never buffered) and sending it by e-mail."""

import re

from pydantic import TypeAdapter

from app.core.ownership import owned
from app.core.tokens import CustomerClients
from app.errors import FieldError, ValidationFailed
from app.http.schemas import Insurer
from app.insurup.client import Download
from app.policies.schemas import PolicyRead
from app.store.cache import ReferenceCache
from app.store.sessions import SessionRecord

_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# Insurer id -> (name, logo URL), as cached.
_INSURERS = TypeAdapter(dict[str, tuple[str, str | None]])


class PolicyService:
    def __init__(self, *, insurup: CustomerClients, cache: ReferenceCache) -> None:
        self._insurup = insurup
        self._cache = cache

    async def read(self, record: SessionRecord, policy_id: str) -> PolicyRead:
        with owned("policy"):
            wire = await self._insurup.of(record).policy(policy_id=policy_id)
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
            currency=wire.currency,
            state=wire.state,
        )

    async def _insurers(self, record: SessionRecord) -> dict[str, tuple[str, str | None]]:
        async def load() -> dict[str, tuple[str, str | None]]:
            wires = await self._insurup.of(record).insurance_companies()
            return {str(w.id): (w.name, w.logo) for w in wires}

        return await self._cache.get_or_load("insurance-companies", load, shape=_INSURERS)

    async def document(self, record: SessionRecord, policy_id: str) -> tuple[str, Download]:
        """The download's file name and the open stream (closed by whoever reads it)."""
        policy = await self.read(record, policy_id)
        number = _FILENAME_UNSAFE.sub("_", policy.policy_number or policy.policy_id)
        with owned("policy"):
            download = await self._insurup.of(record).open_policy_document(policy_id=policy_id)
        return f"kasko-{number}.pdf", download

    async def send(self, record: SessionRecord, policy_id: str, email: str | None) -> None:
        insurup = self._insurup.of(record)
        if email is None:
            email = (await insurup.customer_me()).primary_email
        if not email:
            raise ValidationFailed(
                "InsurUp has no e-mail address for this customer",
                errors=[FieldError("email", "is required: no e-mail address is on file")],
            )
        with owned("policy"):
            await insurup.send_policy_document(
                policy_id=policy_id, customer_id=record.customer_id, email=email
            )
