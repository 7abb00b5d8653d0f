"""The Pulumi driver: native resources (resources.py, program.py for whole stack files), the provider plugin
(plugin.py over bridge.py and wire.py), and the lookup behind `spcs-iac ... --pulumi-stack` (lookup.py)."""
