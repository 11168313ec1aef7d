"""Every Redis key the gateway writes is named here, and nowhere else.

Keys of one session carry the session hash as a hash tag (`{...}`), so a Redis Cluster keeps
them in one slot and multi-key commands stay legal.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str = "bff:"

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
        return f"{self.prefix}payment:{{{payment_id}}}"

    def payment_check_lock(self, payment_id: str) -> str:
        return f"{self.prefix}lock:verify:{{{payment_id}}}"

    def payment_checked(self, payment_id: str) -> str:
        return f"{self.prefix}checked:{{{payment_id}}}"

    def callback(self, token_digest: str) -> str:
        return f"{self.prefix}callback:{token_digest}"

    def product_payment(self, quote_id: str, product_id: str) -> str:
        return f"{self.prefix}product-payment:{quote_id}:{product_id}"

    def cache(self, name: str) -> str:
        return f"{self.prefix}cache:{name}"

    @property
    def rate_limit_prefix(self) -> str:
        return f"{self.prefix}rl"
