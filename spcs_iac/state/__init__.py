"""The state layer: what each stack last applied, its journal and lock."""
