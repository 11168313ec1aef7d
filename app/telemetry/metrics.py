"""Prometheus metrics. Registered once per process: replicas are processes, and several app
instances inside one test process simply share the counters."""

from prometheus_client import Counter, Gauge, Histogram

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

# Children by label values: `labels()` takes a lock and builds its key on every call. Methods,
# route templates and statuses make a few hundred at most; the cap only guards against an
# HTTP server that passes on any method name (labels past it still count, uncached).
_CACHED_CHILDREN = 1024
_REQUEST_COUNTERS: dict[tuple[str, str, int], Counter] = {}
_REQUEST_HISTOGRAMS: dict[str, Histogram] = {}


def count_request(method: str, route: str, status: int, seconds: float) -> None:
    """One served request: `bff_requests_total` and `bff_request_seconds`."""
    counter = _REQUEST_COUNTERS.get((method, route, status))
    if counter is None:
        counter = REQUESTS.labels(method, route, str(status))
        if len(_REQUEST_COUNTERS) < _CACHED_CHILDREN:
            _REQUEST_COUNTERS[method, route, status] = counter
    counter.inc()
    histogram = _REQUEST_HISTOGRAMS.get(route)
    if histogram is None:
        histogram = REQUEST_SECONDS.labels(route)
        if len(_REQUEST_HISTOGRAMS) < _CACHED_CHILDREN:
            _REQUEST_HISTOGRAMS[route] = histogram
    histogram.observe(seconds)
