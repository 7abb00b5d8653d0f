"""The quickstart tests use the local target's Docker fixtures (engine, registry state dir)."""

from tests.local.conftest import docker_client, state_dir  # noqa: F401
