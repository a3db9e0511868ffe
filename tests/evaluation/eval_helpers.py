"""Shared settings for the evaluation tests: a small, fast TabletopPush (one 16 px camera, short episodes),
and ``forbid_rollouts`` (a rerun must build no env and start no worker)."""

ENV_ID = "worldsim/TabletopPush-v0"
SMALL = {"cameras": ("top",), "image_size": 16, "max_episode_steps": 8}
SMALL_OVERRIDES = ["cameras=[top]", "image_size=16", "max_steps=8", "progress=false", "world_model=none"]


def _refuse(what: str):
    def refuse(*args, **kwargs):
        raise AssertionError(f"{what} was called on a rerun of a finished evaluation")
    return refuse


def forbid_rollouts(monkeypatch) -> None:
    """From now on any vector-env construction, worker start, lane run or rollout fails the test."""
    import evaluation.lanes
    import evaluation.vector
    import evaluation.workers

    monkeypatch.setattr(evaluation.vector, "make_vector_env", _refuse("make_vector_env"))
    monkeypatch.setattr(evaluation.workers.Supervisor, "start", _refuse("a worker start"))
    monkeypatch.setattr(evaluation.lanes, "run_lane", _refuse("run_lane"))
    monkeypatch.setattr(evaluation.lanes, "run_jobs", _refuse("run_jobs"))
