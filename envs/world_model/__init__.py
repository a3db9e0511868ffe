"""Shared pieces of the world-model envs (single and native vector): loading and checking a
world-model folder against the simulator it imitates, spaces, and where episodes start.

Nothing heavy is imported here; ``envs/world_model_env.py`` and ``envs/world_model_vector_env.py``
import these modules when an env is made.
"""
