"""Capture hooks: what the standard instrumentors add to spans in record mode."""
