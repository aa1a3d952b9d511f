"""Fixtures of the domain tests: a runtime built from the test settings."""

from collections.abc import AsyncIterator

import pytest

from domain.runtime import Runtime


@pytest.fixture
async def runtime(settings) -> AsyncIterator[Runtime]:
    runtime = Runtime.from_settings(settings)
    yield runtime
    await runtime.close()
