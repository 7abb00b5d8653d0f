"""An inline Pulumi program driven from Python with the Automation API: no Pulumi project on disk.

    python examples/pulumi-automation/deploy.py up        # preview, then deploy
    python examples/pulumi-automation/deploy.py destroy

Needs the Pulumi CLI (``export PATH="$(scripts/install-pulumi.sh | tail -1):$PATH"``) and Docker (the
local target). State goes to a file backend in .pulumi-state/; secrets are encrypted with the
passphrase in PULUMI_CONFIG_PASSPHRASE (default here: "example"). Set SPCS_IAC_BASE_IMAGE offline.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pulumi
from pulumi import automation as auto

import spcs_iac.pulumi as spcs

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def program() -> None:
    """The stack, declared with spcs-iac's native resources; outputs flow in as inputs."""
    db = spcs.Database("db", name="AUTO_DB")
    pool = spcs.ComputePool("pool", name="AUTO_POOL", instance_family="CPU_X64_XS")
    repo = spcs.ImageRepository("repo", name="IMAGES", database=db)
    image = spcs.Image("image", name="convert-api", tag="dev", repository=repo,
                       context=str(ROOT / "examples" / "convert-api"),
                       build_args={"BASE_IMAGE": os.environ.get("SPCS_IAC_BASE_IMAGE", "python:3.11-slim")})
    token = spcs.Secret("token", name="API_TOKEN", database=db, type="GENERIC_STRING",
                        secret_string=repo.repository_url.apply(lambda url: f"token-for-{url.rsplit('/', 1)[-1]}"))
    api = spcs.Service("api", name="CONVERT_API", database=db, compute_pool=pool, spec={
        "containers": [{"name": "convert-api", "image": image,
                        "secrets": [{"snowflakeSecret": token, "secretKeyRef": "secret_string",
                                     "envVarName": "API_TOKEN"}]}],
        "endpoints": [{"name": "convert-api", "port": 9090, "public": True}]})
    spcs.ServiceFunction("udf", name="CONVERT_UDF", database=db, service=api, endpoint="convert-api",
                         path="/convert", arguments=[{"name": "input", "datatype": "REAL"}], returns="REAL")
    pulumi.export("endpoints", api.endpoints)
    pulumi.export("digest", image.digest)


def stack(name: str = "dev", *, target: str = "local", state_dir: str | None = None,
          backend: str | None = None, env: dict[str, str] | None = None) -> auto.Stack:
    """The inline program's stack, with the provider configured through the stack's config."""
    backend_dir = Path(backend or HERE / ".pulumi-state")
    backend_dir.mkdir(parents=True, exist_ok=True)
    settings = auto.ProjectSettings(name="spcs-automation", runtime="python",
                                    backend=auto.ProjectBackend(f"file://{backend_dir}"))
    variables = {"PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", "example"),
                 **(env or {})}
    s = auto.create_or_select_stack(name, "spcs-automation", program,
                                    opts=auto.LocalWorkspaceOptions(project_settings=settings, env_vars=variables))
    s.set_config("spcs-iac:target", auto.ConfigValue(target))
    s.set_config("spcs-iac:stateDir", auto.ConfigValue(state_dir or str(HERE / ".spcs-iac")))
    return s


def main(argv: list[str]) -> int:
    s = stack()
    if argv[1:] == ["destroy"]:
        s.destroy(on_output=print)
        return 0
    s.preview(on_output=print)
    result = s.up(on_output=print)
    print({k: v.value for k, v in result.outputs.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
