"""Deploy a spcs-iac stack with ``pulumi up``: ``from spcs_iac.pulumi import deploy``.

Needs the ``pulumi`` extra (``pip install 'spcs-iac[pulumi]'``). See spcs_iac/drivers/pulumi/.
"""

from spcs_iac.drivers.pulumi.dynamic import PROVIDERS, SpcsProvider
from spcs_iac.drivers.pulumi.program import RESOURCES, SpcsResource, deploy, register_stack

__all__ = ["PROVIDERS", "RESOURCES", "SpcsProvider", "SpcsResource", "deploy", "register_stack"]
