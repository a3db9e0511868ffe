"""Shared settings for the evaluation tests: a small, fast TabletopPush (one 16 px camera, short episodes)."""

ENV_ID = "worldsim/TabletopPush-v0"
SMALL = {"cameras": ("top",), "image_size": 16, "max_episode_steps": 8}
SMALL_OVERRIDES = ["cameras=[top]", "image_size=16", "max_steps=8", "progress=false", "world_model=none"]
