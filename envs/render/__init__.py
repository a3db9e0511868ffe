"""Render sources: MuJoCo, Isaac Sim (Replicator folders themselves are read and written in worldsim.data.replicator)."""
