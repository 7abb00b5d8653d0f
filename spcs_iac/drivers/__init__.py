"""Drivers: the ways the pipeline is run (Python API, CLI, Pulumi)."""
