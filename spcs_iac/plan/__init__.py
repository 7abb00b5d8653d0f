"""Planning: compare desired, observed and recorded state into ordered changes."""
