"""Deploy stacks/quickstart.py with `pulumi up`; Pulumi holds the state.

    pulumi config set spcs-iac:target snowflake      # default: local (Docker)
    pulumi config set spcs-iac:connection my_conn    # a connections.toml entry (Snowflake target)
    pulumi up
"""

from pathlib import Path

from spcs_iac.pulumi import deploy

deploy(str(Path(__file__).resolve().parents[2] / "stacks" / "quickstart.py"))
