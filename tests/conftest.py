"""Shared test configuration.

Tests that need Docker or the Pulumi CLI skip with the reason on a developer machine without them,
and fail under CI=true, where the project's scripts must have installed and started them.
"""

from __future__ import annotations

import os

import pytest

# Tests talk to the account emulator on 127.0.0.1: keep the connector's cloud SDK from probing the
# instance metadata endpoint for a region (it would leave the machine).
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


def require(available: bool, what: str, why: str) -> None:
    """Skip (or fail in CI) when a real component a test needs is missing."""
    if available:
        return
    message = f"{what} is not available: {why}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: the CI scripts must provide it)")
    pytest.skip(message)
