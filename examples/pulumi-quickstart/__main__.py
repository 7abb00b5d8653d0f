"""Deploy stacks/quickstart.py with `pulumi up`; Pulumi holds the state.

One stack file drives the CLI, CI and Pulumi: the program loads it and registers every object as a
native spcs-iac resource (examples/pulumi-native writes them in the program instead).

    pulumi config set spcs-iac:target snowflake      # default: the stack's target (local: Docker)
    pulumi config set spcs-iac:connection my_conn    # a connections.toml entry (Snowflake target)
    pulumi up
"""

from pathlib import Path

from spcs_iac.pulumi import deploy

deploy(str(Path(__file__).resolve().parents[2] / "stacks" / "quickstart.py"))
