"""The local target: Snowpark Container Services on the local Docker engine (see provider.py)."""
