"""Many customers buying at once against two replicas, one Redis and the sandbox: no errors,
no duplicate case, purchase or policy. Bounded for CI; `make load` runs a bigger one."""

import collections

import pytest

from app.config import Settings
from bench.load import two_replicas
from bench.sale import run_sales

CUSTOMERS = 20


@pytest.mark.parametrize("customers", [CUSTOMERS])
async def test_many_customers_buy_at_once_without_errors_or_duplicates(
    settings: Settings, customers: int
) -> None:
    async with two_replicas(settings) as (replicas, browser, state):
        # Numbers from 1000 on: new customers (the sandbox seeds a few low ones with cases).
        outcomes, seconds = await run_sales(customers, replicas, browser, first=1000)
    failed = [(o.customer, o.step, o.error) for o in outcomes if not o.ok]
    assert failed == []
    assert all(count == 1 for count in state.case_creations.values())
    assert len(state.case_creations) == customers
    assert sorted(state.purchase_starts.values()) == [1] * customers
    policies = collections.Counter(p.customer_id for p in state.policies.values())
    assert sorted(policies.values()) == [1] * customers
    assert len({o.policy_id for o in outcomes}) == customers
    print(f"\n{customers} sales in {seconds:.1f}s: {customers / seconds:.2f} completed sales/s")
