"""The spcs-iac command line."""
