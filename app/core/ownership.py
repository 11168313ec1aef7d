"""What a customer owns (quotes, policies, vehicles) is read from InsurUp with the customer's
own token. InsurUp answers 403 ("belongs to another customer") for someone else's object and
404 for one that does not exist; passed on as they are, the two would tell a caller which ids
exist. `owned` makes both one `404 not_found`, in the gateway's words, never InsurUp's."""

from collections.abc import Iterator
from contextlib import contextmanager

from app.errors import NotFound, UpstreamRejected


@contextmanager
def owned(what: str) -> Iterator[None]:
    """Around InsurUp calls that read or act on one of the customer's objects by its id."""
    try:
        yield
    except NotFound as exc:
        raise NotFound(f"No such {what}") from exc
    except UpstreamRejected as exc:
        if exc.status != 403:
            raise
        raise NotFound(f"No such {what}") from exc
