"""The multi-view driving world model."""
