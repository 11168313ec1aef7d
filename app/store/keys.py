"""Every Redis key the gateway writes is named here, and nowhere else.

Every key carries a hash tag (`{...}`): Redis Cluster hashes only the tag, so keys with the
same tag share a slot, and a command, transaction or Lua script may touch several keys only
when they share one. Keys used together share a tag:

- a session, its MFA attempt counter and its locks: the session hash (`SessionStore.delete`
  deletes the session and its counter in one command);
- a customer's session set and sale-opportunity lock: the customer id;
- payment records, their callback tokens and the index of pending payments: one tag for all
  payments (a payment and its token are written in one transaction, and the callback knows
  only its token, so no per-payment tag can be common to both; a settlement changes a record
  and the index in one script). Payments are few next to sessions; one slot serves them;
- the service account's token and its lock: `{service}`;
- everything else is used alone, or with keys of the same session or quote, and is tagged by
  that id.

`make test-cluster` runs the Redis-backed tests on a real cluster: a command across slots fails
there (CROSSSLOT, or redis-py's `CrossSlotTransactionError`).

The rate limits' keys belong to the `limits` library; each of its scripts touches one key.
"""

from dataclasses import dataclass

# The one tag of payment records, their callback tokens and the pending index (above).
PAYMENTS_TAG = "{payments}"


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str = "bff:"

    def __post_init__(self) -> None:
        if "{" in self.prefix or "}" in self.prefix:
            # A brace in the prefix would become (part of) every key's hash tag.
            raise ValueError("BFF_REDIS_KEY_PREFIX must not contain { or }")

    def session(self, handle: str) -> str:
        return f"{self.prefix}session:{{{handle}}}"

    def mfa_attempts(self, handle: str) -> str:
        return f"{self.prefix}mfa-attempts:{{{handle}}}"

    def refresh_lock(self, handle: str) -> str:
        return f"{self.prefix}lock:refresh:{{{handle}}}"

    def mfa_lock(self, handle: str) -> str:
        return f"{self.prefix}lock:mfa:{{{handle}}}"

    def case_lock(self, customer_id: str) -> str:
        return f"{self.prefix}lock:case:{{{customer_id}}}"

    def customer_sessions(self, customer_id: str) -> str:
        return f"{self.prefix}customer-sessions:{{{customer_id}}}"

    def idempotency(self, owner: str, scope: str, key_digest: str) -> str:
        return f"{self.prefix}idem:{{{owner}}}:{scope}:{key_digest}"

    def payment(self, payment_id: str) -> str:
        return f"{self.prefix}payment:{PAYMENTS_TAG}:{payment_id}"

    def payment_check_lock(self, payment_id: str) -> str:
        return f"{self.prefix}lock:verify:{{{payment_id}}}"

    def payment_checked(self, payment_id: str) -> str:
        return f"{self.prefix}checked:{{{payment_id}}}"

    def callback(self, token_digest: str) -> str:
        return f"{self.prefix}callback:{PAYMENTS_TAG}:{token_digest}"

    def cache(self, name: str) -> str:
        return f"{self.prefix}cache:{{{name}}}"

    def service_token(self) -> str:
        return f"{self.prefix}{{service}}:token"

    def service_token_lock(self) -> str:
        return f"{self.prefix}{{service}}:lock:token"

    def information_form(self, handle: str, quote_id: str, product_id: str) -> str:
        return f"{self.prefix}information-form:{{{handle}}}:{quote_id}:{product_id}"

    def call_back_request(self, handle: str, quote_id: str, product_id: str) -> str:
        return f"{self.prefix}call-back:{{{handle}}}:{quote_id}:{product_id}"

    def webhook_delivery(self, delivery_id: str) -> str:
        return f"{self.prefix}webhook-delivery:{{{delivery_id}}}"

    def pending_payments(self) -> str:
        """Every payment still pending, scored by when it started (beside the records, so a
        settlement changes both in one script)."""
        return f"{self.prefix}pending-payments:{PAYMENTS_TAG}"

    def quote_payment(self, quote_id: str) -> str:
        """The payment under way for a quote: InsurUp buys one product of a quote at a time."""
        return f"{self.prefix}quote-payment:{{{quote_id}}}"

    def product_payment_index(self, quote_id: str, insurer_product_id: int) -> str:
        """The last payment for a quote's product by InsurUp's product id (webhooks name it)."""
        return f"{self.prefix}product-payment-index:{{{quote_id}}}:{insurer_product_id}"

    @property
    def rate_limit_prefix(self) -> str:
        return f"{self.prefix}rl"
