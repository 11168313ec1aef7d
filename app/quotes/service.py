"""Quotes: ask every insurer for a kasko price, read the comparison, its details, retries, and
follow a quote live (one shared InsurUp poll per quote per replica)."""

import datetime as dt
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pydantic import TypeAdapter

from app.core.limits import QuoteLimits
from app.core.ownership import owned
from app.core.tokens import CustomerClients
from app.errors import FieldError, NotFound, ValidationFailed
from app.insurup.client import Download
from app.insurup.proposals import CoverageChoicesWire, ProductWire, ProposalWire
from app.quotes.events import QuoteWatcher, Subscription
from app.quotes.normalize import QuoteNormalizer
from app.quotes.schemas import (
    CoverageChoices,
    CoverageGroupRead,
    CoverageItem,
    InstallmentRead,
    ProductCoverage,
    ProductRead,
    QuoteCreate,
    QuoteCreated,
    QuoteRead,
)
from app.store.cache import ReferenceCache
from app.store.idempotency import IdempotencyStore, fingerprint
from app.store.information_forms import InformationForms
from app.store.locks import LeasePolicy
from app.store.sessions import SessionRecord, Transport
from app.telemetry.metrics import CALL_BACKS
from app.validation.dates import today_in_turkey
from app.vocabulary import Channel

# Insurers quote a policy start from today up to about two months ahead.
MAX_START_DAYS = 60
_CHOICES = TypeAdapter(list[CoverageChoicesWire])
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
log = logging.getLogger("app.quotes")


class QuoteService:
    def __init__(
        self,
        *,
        insurup: CustomerClients,
        idempotency: IdempotencyStore,
        normalizer: QuoteNormalizer,
        watcher: QuoteWatcher,
        coverage_groups: list[tuple[str, str]],
        channels: dict[Transport, Channel],
        leases: LeasePolicy,
        cache: ReferenceCache,
        limits: QuoteLimits,
        forms: InformationForms,
    ) -> None:
        self._insurup = insurup
        self._forms = forms
        self._limits = limits
        self._idempotency = idempotency
        self._normalizer = normalizer
        self._watcher = watcher
        self._groups = coverage_groups
        self._channels = channels
        self._cache = cache
        # A quote's creation: maybe a refresh, then the proposal call.
        self._lease = leases.lease(2)

    def coverage_groups(self) -> list[CoverageGroupRead]:
        return [CoverageGroupRead(id=group_id, name=name) for group_id, name in self._groups]

    async def coverage_choices(
        self, record: SessionRecord, *, insurer_id: int | None, utilization_style: str | None
    ) -> list[CoverageChoices]:
        """InsurUp's choices per insurer product, cached; filtered by insurer here because
        InsurUp's `insuranceCompanyId` query parameter is not in its contract."""

        async def load() -> list[CoverageChoicesWire]:
            insurup = self._insurup.of(record)
            return await insurup.coverage_choices(utilization_style=utilization_style)

        name = f"coverage-choices:{utilization_style or 'any'}"
        wires = await self._cache.get_or_load(name, load, shape=_CHOICES)
        return [
            CoverageChoices(
                insurance_company_id=wire.insurance_company_id,
                product_id=wire.product_id,
                product_type=wire.product_type,
                coverage_choices=wire.coverage_choices,
            )
            for wire in wires
            if insurer_id is None or wire.insurance_company_id == insurer_id
        ]

    async def create(
        self, record: SessionRecord, form: QuoteCreate, *, idempotency_key: str | None
    ) -> QuoteCreated:
        """Start a proposal at InsurUp; with an `Idempotency-Key`, at most one per key (a
        replayed answer spends no rate-limit allowance; a refused one frees the key)."""
        groups = self._checked_groups(form.coverage_group_ids)
        self._check_start(form.policy_start_date)

        async def propose() -> QuoteCreated:
            await self._limits.quote(session_handle=record.handle, customer_id=record.customer_id)
            with owned("vehicle"):
                quote_id = await self._insurup.of(record).create_proposal(
                    customer_id=record.customer_id,
                    vehicle_id=form.vehicle_id,
                    coverage_group_ids=groups,
                    channel=self._channels[record.info.transport],
                    policy_start_date=form.policy_start_date,
                )
            return QuoteCreated(quote_id=quote_id)

        if idempotency_key is None:
            return await propose()
        return await self._idempotency.once(
            owner=record.customer_id,
            scope="quote",
            key=idempotency_key,
            fingerprint=fingerprint(form.model_dump(mode="json")),
            lease_seconds=self._lease,
            run=propose,
            answer=QuoteCreated,
        )

    def _checked_groups(self, requested: list[str] | None) -> list[str]:
        offered = [group_id for group_id, _ in self._groups]
        if requested is None:
            return offered
        if any(g not in offered for g in requested):
            raise ValidationFailed(
                "Use the packages from /api/v1/coverage-groups",
                errors=[
                    FieldError("coverageGroupIds", "contains a package this agency does not offer")
                ],
            )
        return list(dict.fromkeys(requested))

    @staticmethod
    def _check_start(start: dt.date | None) -> None:
        if start is None:
            return
        today = today_in_turkey()
        if not today <= start <= today + dt.timedelta(days=MAX_START_DAYS):
            raise ValidationFailed(
                errors=[
                    FieldError(
                        "policyStartDate", f"must be between today and {MAX_START_DAYS} days ahead"
                    )
                ]
            )

    async def proposal(self, record: SessionRecord, quote_id: str) -> ProposalWire:
        with owned("quote"):
            return await self._insurup.of(record).proposal(proposal_id=quote_id)

    async def read(self, record: SessionRecord, quote_id: str) -> QuoteRead:
        return self._normalizer.quote(await self.proposal(record, quote_id))

    async def read_json(self, record: SessionRecord, quote_id: str) -> bytes:
        """`read`'s quote as the API sends it (the hot read path: encoded once)."""
        return self._normalizer.quote_json(await self.proposal(record, quote_id))

    @asynccontextmanager
    async def follow(
        self, record: SessionRecord, quote_id: str
    ) -> AsyncIterator[tuple[QuoteRead, Subscription]]:
        """The quote now and a subscription to its changes, shared by every follower of the
        same quote in this process (the first read also proves the customer may see it)."""
        async with self._watcher.subscribe(
            customer_id=record.customer_id,
            quote_id=quote_id,
            fetch=lambda: self.read(record, quote_id),
        ) as subscribed:
            yield subscribed

    async def product(self, record: SessionRecord, quote_id: str, product_id: str) -> ProductWire:
        """One product as InsurUp has it now (a fresh read, never a cached one)."""
        product = (await self.proposal(record, quote_id)).product(product_id)
        if product is None:
            raise NotFound("No such product in this quote")
        return product

    def offer(self, product: ProductWire) -> ProductRead:
        """What the customer may do with a product: purchasable, methods, installments."""
        return self._normalizer.product(product)

    async def coverage(
        self, record: SessionRecord, quote_id: str, product_id: str
    ) -> ProductCoverage:
        with owned("quote"):
            lines = await self._insurup.of(record).product_coverage(
                proposal_id=quote_id, product_id=product_id
            )
        return ProductCoverage(
            product_id=product_id,
            items=[
                CoverageItem(name=line.name, kind=line.kind, value=line.value) for line in lines
            ],
        )

    async def installment(
        self, record: SessionRecord, quote_id: str, product_id: str, number: int
    ) -> InstallmentRead:
        product = await self.product(record, quote_id, product_id)
        wire = next((p for p in product.premiums if p.installment_number == number), None)
        premium = self._normalizer.premium(wire) if wire else None
        if wire is None or premium is None:
            raise NotFound("This product has no such installment plan")
        with owned("quote"):
            detail = await self._insurup.of(record).premium_detail(
                proposal_id=quote_id, product_id=product_id, installment=number
            )
        return InstallmentRead(
            installment_number=number,
            gross_premium=premium.gross_premium,
            net_premium=premium.net_premium,
            currency=premium.currency,
            insurer_proposal_number=detail.insurer_proposal_number or wire.insurer_proposal_number,
        )

    async def information_form(
        self, record: SessionRecord, quote_id: str, product_id: str
    ) -> tuple[str, Download]:
        """The product's pre-contract information form (PDF), noted as opened in this session:
        a purchase needs it."""
        await self.product(record, quote_id, product_id)  # the customer's own quote, or 404
        download = await self._insurup.of(record).open_information_form(
            proposal_id=quote_id, product_id=product_id
        )
        await self._forms.opened(record.handle, quote_id, product_id)
        return f"on-bilgilendirme-{_FILENAME_UNSAFE.sub('_', product_id)}.pdf", download

    async def request_call_back(
        self, record: SessionRecord, quote_id: str, product_id: str
    ) -> None:
        """A customer who cannot buy a product online (a robot quote, an insurer the agency
        sells only through its staff) asks to be called. Recorded where the agency sees it: one
        `call-back requested` log line with the customer, quote, product and CRM case ids (no
        personal data), and a metric; once per product per session."""
        product = await self.product(record, quote_id, product_id)  # the customer's own, or 404
        if not await self._forms.call_back_asked(record.handle, quote_id, product_id):
            return
        CALL_BACKS.inc()
        log.warning(
            "call-back requested",
            extra={
                "customerId": record.customer_id,
                "caseId": record.case.case_id if record.case else None,
                "quoteId": quote_id,
                "productId": product_id,
                "insurerId": product.insurance_company_id,
                "reason": self.offer(product).not_purchasable_reason,
            },
        )

    async def retry(self, record: SessionRecord, quote_id: str, product_id: str) -> None:
        with owned("quote"):
            await self._insurup.of(record).retry_product(
                proposal_id=quote_id, product_id=product_id
            )

    @property
    def followed(self) -> int:
        """How many quotes this process polls for live followers."""
        return self._watcher.active

    async def aclose(self) -> None:
        await self._watcher.aclose()
