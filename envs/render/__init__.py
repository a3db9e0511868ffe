"""Render sources: MuJoCo, Replicator folders, Isaac Sim."""
