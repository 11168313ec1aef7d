"""Quotes: ask every insurer for a kasko price, read the comparison, its details, retries."""

import datetime as dt
from typing import Any

from app.errors import FieldError, NotFound, ValidationFailed
from app.insurup.client import InsurUpClient
from app.insurup.proposals import ProductWire, ProposalWire, proposal_body
from app.insurup.vehicles import UTILIZATION_ORDINALS
from app.quotes.normalize import QuoteNormalizer
from app.quotes.schemas import (
    CoverageChoices,
    CoverageGroupRead,
    CoverageItem,
    InstallmentRead,
    ProductCoverage,
    QuoteCreate,
    QuoteCreated,
    QuoteRead,
)
from app.session.tokens import TokenKeeper
from app.store.cache import ReferenceCache
from app.store.idempotency import IdempotencyStore, fingerprint
from app.store.sessions import SessionRecord
from app.validation.dates import today_in_turkey

# Insurers quote a policy start from today up to about two months ahead.
MAX_START_DAYS = 60


class QuoteService:
    def __init__(
        self,
        *,
        client: InsurUpClient,
        tokens: TokenKeeper,
        idempotency: IdempotencyStore,
        normalizer: QuoteNormalizer,
        coverage_groups: list[tuple[str, str]],
        channels: dict[str, str],
        call_timeout: float,
        cache: ReferenceCache,
    ) -> None:
        self._cache = cache
        self._client = client
        self._tokens = tokens
        self._idempotency = idempotency
        self.normalizer = normalizer
        self._groups = coverage_groups
        self._channels = channels
        self._lease = int(call_timeout * 2 + 5)

    def coverage_groups(self) -> list[CoverageGroupRead]:
        return [CoverageGroupRead(id=group_id, name=name) for group_id, name in self._groups]

    async def coverage_choices(
        self, record: SessionRecord, *, insurer_id: int | None, utilization_style: str | None
    ) -> list[CoverageChoices]:
        """InsurUp's choices per insurer product, cached; filtered by insurer here because
        InsurUp's `insuranceCompanyId` query parameter is not in its contract."""
        ordinal = None if utilization_style is None else UTILIZATION_ORDINALS[utilization_style]

        async def load() -> list[dict[str, Any]]:
            return await self._tokens.call(
                record,
                lambda t: self._client.coverage_choices(token=t, utilization_ordinal=ordinal),
            )

        items = await self._cache.get_or_load(f"coverage-choices:{ordinal}", load)
        return [
            CoverageChoices(
                insurance_company_id=item.get("insuranceCompanyId"),
                product_id=item.get("productId"),
                product_type=item.get("productType"),
                coverage_choices=item.get("coverageChoices") or {},
            )
            for item in items
            if insurer_id is None or item.get("insuranceCompanyId") == insurer_id
        ]

    async def create(
        self, record: SessionRecord, form: QuoteCreate, *, idempotency_key: str | None
    ) -> QuoteCreated:
        """Start a proposal at InsurUp; with an `Idempotency-Key`, at most one per key."""
        groups = self._checked_groups(form.coverage_group_ids)
        self._check_start(form.policy_start_date)
        customer_id = record.customer_id
        body = proposal_body(
            customer_id=customer_id,
            vehicle_id=form.vehicle_id,
            coverage_group_ids=groups,
            channel=self._channels[record.meta.transport],
            agent_branch_id=self._client.agent_branch_id,
            policy_start_date=form.policy_start_date,
        )
        if idempotency_key is None:
            return QuoteCreated(quote_id=await self._propose(record, body))
        scope = {"owner": customer_id, "scope": "quote", "key": idempotency_key}
        print_ = fingerprint(form.model_dump(mode="json"))
        replay = await self._idempotency.begin(
            **scope, fingerprint=print_, lease_seconds=self._lease
        )
        if replay is not None:
            return QuoteCreated.model_validate(replay.body)
        try:
            created = QuoteCreated(quote_id=await self._propose(record, body))
        except BaseException:
            await self._idempotency.abandon(**scope)
            raise
        await self._idempotency.complete(
            **scope, fingerprint=print_, status=201, body=created.model_dump(by_alias=True)
        )
        return created

    async def _propose(self, record: SessionRecord, body: dict[str, Any]) -> str:
        return await self._tokens.call(
            record, lambda t: self._client.create_proposal(token=t, body=body)
        )

    def _checked_groups(self, requested: list[str] | None) -> list[str]:
        offered = [group_id for group_id, _ in self._groups]
        if requested is None:
            return offered
        unknown = [g for g in requested if g not in offered]
        if unknown:
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
        return await self._tokens.call(
            record, lambda t: self._client.proposal(token=t, proposal_id=quote_id)
        )

    async def read(self, record: SessionRecord, quote_id: str) -> QuoteRead:
        return self.normalizer.quote(await self.proposal(record, quote_id))

    async def product(self, record: SessionRecord, quote_id: str, product_id: str) -> ProductWire:
        product = (await self.proposal(record, quote_id)).product(product_id)
        if product is None:
            raise NotFound("No such product in this quote")
        return product

    async def coverage(
        self, record: SessionRecord, quote_id: str, product_id: str
    ) -> ProductCoverage:
        coverage = await self._tokens.call(
            record,
            lambda t: self._client.product_coverage(
                token=t, proposal_id=quote_id, product_id=product_id
            ),
        )
        return ProductCoverage(product_id=product_id, items=coverage_items(coverage))

    async def installment(
        self, record: SessionRecord, quote_id: str, product_id: str, number: int
    ) -> InstallmentRead:
        product = await self.product(record, quote_id, product_id)
        wire = next((p for p in product.premiums if p.installment_number == number), None)
        premium = self.normalizer.premium(wire) if wire else None
        if wire is None or premium is None:
            raise NotFound("This product has no such installment plan")
        detail = await self._tokens.call(
            record,
            lambda t: self._client.premium_detail(
                token=t, proposal_id=quote_id, product_id=product_id, installment=number
            ),
        )
        number_at_insurer = detail.get("insuranceCompanyProposalNumber")
        return InstallmentRead(
            installment_number=number,
            gross_premium=premium.gross_premium,
            net_premium=premium.net_premium,
            currency=premium.currency,
            insurer_proposal_number=str(number_at_insurer or wire.insurer_proposal_number or "")
            or None,
        )

    async def retry(self, record: SessionRecord, quote_id: str, product_id: str) -> None:
        await self._tokens.call(
            record,
            lambda t: self._client.retry_product(
                token=t, proposal_id=quote_id, product_id=product_id
            ),
        )


def coverage_items(coverage: dict[str, Any]) -> list[CoverageItem]:
    """InsurUp's kasko coverage object as a flat list the frontend can render."""
    items = []
    for name, value in coverage.items():
        if name in ("$type", "productBranch"):
            continue
        if isinstance(value, dict) and isinstance(value.get("$type"), str):
            amount = value.get("value")
            items.append(
                CoverageItem(
                    name=name,
                    kind=value["$type"],
                    value=amount if isinstance(amount, int | float | str) else None,
                )
            )
        elif isinstance(value, str):
            items.append(CoverageItem(name=name, kind="OPTION", value=value))
    return items
