"""Fixtures of the API tests: the user-flow bench (see ``otp_support``)."""

import pytest

from tests.api.otp_support import Setup, build_setup


@pytest.fixture
async def setup(admin, http, tenant, httpserver) -> Setup:
    return await build_setup(admin, http, tenant, httpserver)
