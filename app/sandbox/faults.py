"""Fault injection, applied at the start of every operation.

Knobs (config at start-up, `state.faults` at run time), keyed by `Operation` value or `"*"`:

- `latency_seconds[op]`: sleep before answering;
- `timeout` contains op: hang `config.timeout_fault_seconds` (longer than any sane client
  timeout), then answer 504 upstream-service if the client is still there;
- `fail_next[op] = n`: the next n calls answer 503 upstream-service (deterministic);
- `error_rate[op]`: probability of a 503 upstream-service answer.
"""

from typing import NoReturn

from .config import ANY_OPERATION, Operation
from .problems import ProblemError
from .state import SandboxState

INJECTED_FAULT_CODE = "SANDBOX_INJECTED_FAULT"


def _knob(knobs: dict[str, float], operation: Operation) -> float:
    if operation.value in knobs:
        return knobs[operation.value]
    return knobs.get(ANY_OPERATION, 0.0)


async def inject_faults(state: SandboxState, operation: Operation) -> None:
    """Count the call, then delay / hang / fail as the knobs say."""
    state.calls[operation.value] += 1
    knobs = state.faults

    delay = _knob(knobs.latency_seconds, operation)
    if delay > 0:
        await state.config.sleep(delay)

    if operation.value in knobs.timeout or ANY_OPERATION in knobs.timeout:
        state.injected_faults[operation.value] += 1
        await state.config.sleep(state.config.timeout_fault_seconds)
        raise ProblemError.upstream(
            f"Injected timeout: {operation.value} hung for "
            f"{state.config.timeout_fault_seconds:g} s.",
            status=504,
            codes=[INJECTED_FAULT_CODE],
        )

    if knobs.fail_next[operation.value] > 0:
        knobs.fail_next[operation.value] -= 1
        _raise_injected_error(state, operation)

    rate = _knob(knobs.error_rate, operation)
    if rate > 0 and state.random.random() < rate:
        _raise_injected_error(state, operation)


def _raise_injected_error(state: SandboxState, operation: Operation) -> NoReturn:
    state.injected_faults[operation.value] += 1
    raise ProblemError.upstream(
        f"Injected failure of {operation.value}: the service is temporarily unavailable.",
        codes=[INJECTED_FAULT_CODE],
    )
