"""The Snowflake CLI (``snowflake-cli`` from PyPI, command ``snow``), unchanged, with a connection to the
emulator: compute pools, image repositories, services and jobs, and ``snow sql``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conformance.conftest import run

SPEC = """spec:
  containers:
  - name: main
    image: /snow_db/public/snow_repo/app:1
  endpoints:
  - name: api
    port: 8080
    public: true
"""
JOB = """spec:
  containers:
  - name: main
    image: /snow_db/public/snow_repo/app:1
"""
SETUP = ("CREATE DATABASE SNOW_DB; CREATE ROLE SNOW_ROLE; GRANT ROLE SNOW_ROLE TO ROLE SYSADMIN; "
         "GRANT USAGE ON DATABASE SNOW_DB TO ROLE SNOW_ROLE; "
         "GRANT USAGE, CREATE SERVICE ON SCHEMA SNOW_DB.PUBLIC TO ROLE SNOW_ROLE; "
         "GRANT BIND SERVICE ENDPOINT ON ACCOUNT TO ROLE SNOW_ROLE")


def test_snow_cli_drives_spcs_on_the_emulator(client_env: Any, emulator: Any, tmp_path: Path) -> None:
    snow = str(client_env("snowcli") / "snow")
    config = tmp_path / "config.toml"
    config.write_text(f'default_connection_name = "emu"\n[connections.emu]\naccount = "emu"\nuser = "admin"\n'
                      f'password = "x"\nhost = "127.0.0.1"\nport = {emulator.port}\nprotocol = "http"\n'
                      'role = "ACCOUNTADMIN"\n')
    config.chmod(0o600)
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "job.yaml").write_text(JOB)
    env = {"SNOWFLAKE_HOME": str(tmp_path), "HOME": str(tmp_path)}
    as_app = ["--role", "SNOW_ROLE", "--database", "SNOW_DB", "--schema", "PUBLIC"]

    def snow_ok(*args: str) -> str:
        r = run([snow, "--config-file", str(config), *args], env=env, cwd=tmp_path)
        assert r.returncode == 0, f"snow {' '.join(args)}:\n{r.stdout}\n{r.stderr}"
        return r.stdout

    assert "ACCOUNTADMIN" in snow_ok("sql", "-q", "SELECT CURRENT_ROLE()")
    snow_ok("sql", "-q", SETUP)

    assert "successfully created" in snow_ok("spcs", "compute-pool", "create", "SNOW_POOL", "--family", "CPU_X64_XS")
    assert "SNOW_POOL" in snow_ok("spcs", "compute-pool", "list")
    assert "CPU_X64_XS" in snow_ok("spcs", "compute-pool", "describe", "SNOW_POOL")
    snow_ok("spcs", "compute-pool", "suspend", "SNOW_POOL")
    snow_ok("spcs", "compute-pool", "resume", "SNOW_POOL")
    snow_ok("sql", "-q", "GRANT USAGE, MONITOR ON COMPUTE POOL SNOW_POOL TO ROLE SNOW_ROLE")

    where = ["--database", "SNOW_DB", "--schema", "PUBLIC"]
    assert "successfully created" in snow_ok("spcs", "image-repository", "create", "SNOW_REPO", *where)
    assert "SNOW_REPO" in snow_ok("spcs", "image-repository", "list", *where)
    assert snow_ok("spcs", "image-repository", "url", "SNOW_REPO", *where).strip().endswith(
        "/snow_db/public/snow_repo")

    assert "successfully created" in snow_ok("spcs", "service", "create", "SNOW_SVC", "--compute-pool", "SNOW_POOL",
                                             "--spec-path", "spec.yaml", *as_app)
    assert "SNOW_SVC" in snow_ok("spcs", "service", "list", *as_app)
    assert "snow_repo/app:1" in snow_ok("spcs", "service", "describe", "SNOW_SVC", *as_app)
    emulator.emulator.inject(ready_delay_s=0.02)
    import time

    time.sleep(0.1)
    assert "READY" in snow_ok("spcs", "service", "status", "SNOW_SVC", *as_app)
    assert "main: ready" in snow_ok("spcs", "service", "logs", "SNOW_SVC", "--container-name", "main",
                                    "--instance-id", "0", *as_app)
    snow_ok("spcs", "service", "suspend", "SNOW_SVC", *as_app)
    assert emulator.rows("SHOW SERVICES LIKE 'SNOW_SVC' IN ACCOUNT", role="SNOW_ROLE")[0]["status"] == "SUSPENDED"
    snow_ok("spcs", "service", "resume", "SNOW_SVC", *as_app)
    snow_ok("spcs", "service", "upgrade", "SNOW_SVC", "--spec-path", "spec.yaml", *as_app)
    assert "DONE" in snow_ok("spcs", "service", "execute-job", "SNOW_JOB", "--compute-pool", "SNOW_POOL",
                             "--spec-path", "job.yaml", *as_app)

    # What the emulator refuses, it refuses as Snowflake does: ACCOUNTADMIN cannot own a service.
    r = run([snow, "--config-file", str(config), "spcs", "service", "create", "ADMIN_SVC", "--compute-pool",
             "SNOW_POOL", "--spec-path", "spec.yaml", *where], env=env, cwd=tmp_path)
    assert r.returncode != 0 and "003001" in r.stdout + r.stderr
