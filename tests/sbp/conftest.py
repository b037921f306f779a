"""Fixtures of the sbp tests."""

import pytest

from jaxhin.sbp import make_mesh


@pytest.fixture(scope="module")
def mesh():
    """The 2 x 4 ("data", "model") mesh of the 8 fake CPU devices."""
    return make_mesh("data=2,model=4")
