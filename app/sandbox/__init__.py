"""InsurUp simulator: a stand-in for a foreign service.

It imports nothing from the rest of `app/`; the gateway must talk to it over HTTP only.
"""

from .app import create_sandbox_app, get_sandbox_state
from .config import ManualClock, Operation, SandboxConfig
from .seed import DEMO_AGENT_ID
from .state import SandboxState

__all__ = [
    "DEMO_AGENT_ID",
    "ManualClock",
    "Operation",
    "SandboxConfig",
    "SandboxState",
    "create_sandbox_app",
    "get_sandbox_state",
]
