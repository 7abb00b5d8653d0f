"""Shared constants for the emulator tests (importable as ``emu_fixtures``; unique name on purpose)."""

from __future__ import annotations

READY = 0.05  # seconds until services/pools are ready in these tests

SPEC = """spec:
  containers:
  - name: main
    image: /db/public/repo/echo:1.0
    env:
      GREETING: hello
  - name: sidecar
    image: /db/public/repo/proxy:2.1
  endpoints:
  - name: api
    port: 8080
    public: true
  - name: internal
    port: 9000
"""

SETUP = [
    "CREATE ROLE DEPLOYER",
    "GRANT ROLE DEPLOYER TO ROLE SYSADMIN",
    "CREATE DATABASE DB",
    "CREATE IMAGE REPOSITORY DB.PUBLIC.REPO",
    "CREATE COMPUTE POOL POOL MIN_NODES = 1 MAX_NODES = 2 INSTANCE_FAMILY = CPU_X64_XS",
    "GRANT USAGE, MONITOR ON COMPUTE POOL POOL TO ROLE DEPLOYER",
    "GRANT USAGE, CREATE SERVICE, CREATE FUNCTION ON SCHEMA DB.PUBLIC TO ROLE DEPLOYER",
    "GRANT USAGE ON DATABASE DB TO ROLE DEPLOYER",
    "GRANT BIND SERVICE ENDPOINT ON ACCOUNT TO ROLE DEPLOYER",  # the spec has a public endpoint
]
