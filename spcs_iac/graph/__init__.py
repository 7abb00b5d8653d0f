"""The dependency graph of a stack."""
