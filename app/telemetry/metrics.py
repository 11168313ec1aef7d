"""Prometheus metrics. Registered once per process: replicas are processes, and several app
instances inside one test process simply share the counters."""

from typing import Generic, TypeVar

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

M = TypeVar("M", bound=MetricWrapperBase)

REQUESTS = Counter("bff_requests_total", "HTTP requests served", ["method", "route", "status"])
REQUEST_SECONDS = Histogram(
    "bff_request_seconds",
    "HTTP request duration",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15),
)
INSURUP_CALLS = Counter("bff_insurup_calls_total", "Calls to InsurUp", ["operation", "outcome"])
INSURUP_SECONDS = Histogram(
    "bff_insurup_call_seconds",
    "InsurUp call duration",
    ["operation"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TOKEN_REFRESHES = Counter("bff_token_refreshes_total", "InsurUp token refreshes", ["outcome"])
CASES = Counter("bff_cases_total", "Sale-opportunity case step", ["outcome"])
CALL_BACKS = Counter(
    "bff_call_back_requests_total", "Customers asking the agency to call them about a product"
)
LOGINS = Counter("bff_logins_total", "Login steps", ["step", "outcome"])
PAYMENTS = Counter("bff_payments_total", "Payment starts and settlements", ["outcome"])
SETTLEMENTS = Counter(
    "bff_payment_settlements_total",
    "Payments settled, by the signal that settled them",
    ["signal", "status"],
)
PENDING_PAYMENTS = Gauge(
    "bff_payments_pending", "Pending payments by age (as the reconciler last saw them)", ["age"]
)
WEBHOOKS = Counter("bff_webhooks_total", "InsurUp webhook deliveries", ["event", "outcome"])


class Children(Generic[M]):
    """A labelled metric's children by label values, kept once made: `labels()` takes a lock
    and builds its key on every call, on every request. The label values (operations,
    outcomes, methods, route templates, statuses) make a few hundred at most; the cap only
    guards against an HTTP server that passes on any method name (children past it still
    count, made again each time)."""

    def __init__(self, metric: M, *, most: int = 1024) -> None:
        self._metric = metric
        self._made: dict[tuple[str, ...], M] = {}
        self._most = most

    def __call__(self, *labels: str) -> M:
        child = self._made.get(labels)
        if child is None:
            child = self._metric.labels(*labels)
            if len(self._made) < self._most:
                self._made[labels] = child
        return child


_REQUEST_COUNTS = Children(REQUESTS)
_REQUEST_TIMES = Children(REQUEST_SECONDS)


def count_request(method: str, route: str, status: int, seconds: float) -> None:
    """One served request: `bff_requests_total` and `bff_request_seconds`."""
    _REQUEST_COUNTS(method, route, str(status)).inc()
    _REQUEST_TIMES(route).observe(seconds)
