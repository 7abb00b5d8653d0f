"""Applying a plan: the parallel graph walk and the state it records."""
