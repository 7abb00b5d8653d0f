"""The Pulumi bridge: dynamic providers per kind (dynamic.py) and stack registration (program.py)."""
