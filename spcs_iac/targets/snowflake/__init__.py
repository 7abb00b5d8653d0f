"""The Snowflake target: SQL generation from the kind declarations, batched reads, a counted connection."""
