"""Test data made through the services, one module per domain (tests/builders/<domain>.py).

The builders most tests use are re-exported here; import the rest from their domain's module.
"""

from tests.builders.auth import bearer, make_user, make_user_token
from tests.builders.core import unique
from tests.builders.tracking import TEST_ACTOR, make_experiment, make_run

__all__ = ["TEST_ACTOR", "bearer", "make_experiment", "make_run", "make_user", "make_user_token", "unique"]
