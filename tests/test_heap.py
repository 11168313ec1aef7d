"""Start-up's objects are frozen out of the cyclic collector's scans, once per process."""

import gc

from tests.conftest import AppFactory


async def test_start_up_objects_are_frozen_once_per_process(make_app: AppFactory) -> None:
    async with make_app():
        frozen = gc.get_freeze_count()
    assert frozen > 10_000  # modules, classes, pydantic's validators, the app
    async with make_app():
        # A second app in the process freezes nothing more (frozen objects freed since drop
        # out of the count; freezing again would add the thousands the second app made).
        assert gc.get_freeze_count() <= frozen
