"""spcs-iac as Pulumi resources: ``import spcs_iac.pulumi as spcs``.

- one native resource class per kind (``spcs.ComputePool``, ``spcs.Service``, ...; generated from the
  kind declarations): arguments take ``pulumi.Input``, outputs are ``pulumi.Output``;
- ``spcs.Provider`` for an explicit provider (target, state directory, Snowflake connection);
- ``deploy(stack_file)`` registers a whole spcs-iac stack file, so one file drives the CLI, CI and Pulumi.

The resources are served by the ``spcs-iac`` resource provider plugin (``pulumi-resource-spcs-iac``,
installed next to the Pulumi CLI by scripts/install-pulumi.sh). Needs the ``pulumi`` extra.
"""

import sys

from spcs_iac.drivers.pulumi.program import deploy, register_stack
from spcs_iac.drivers.pulumi.resources import CLASSES, Provider, SpcsResource

_module = sys.modules[__name__]
for _cls in CLASSES.values():
    setattr(_module, _cls.__name__, _cls)

RESOURCES = CLASSES

__all__ = ["CLASSES", "RESOURCES", "Provider", "SpcsResource", "deploy", "register_stack",
           *(c.__name__ for c in CLASSES.values())]
