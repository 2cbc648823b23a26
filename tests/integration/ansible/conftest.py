"""The test Hub fixture (``hub``) for the ansible integration tests."""

from tests.hub_server.fixtures import hub  # noqa: F401  (re-exported pytest fixture)
