"""``worldsim generate ... render=false``: a state-only dataset (no camera rendered or recorded)."""

import numpy as np

from envs.metaworld_state import SIM_STATE
from worldsim.cli import main
from worldsim.data.lerobot_reader import LeRobotDatasetReader


def test_state_only_metaworld_dataset_records_sim_state_and_no_frames(tmp_path):
    out = tmp_path / "mw"
    assert main(["generate", "--env", "worldsim/MetaWorld-v0", "--policy", "play,expert+noise:0.5", "--episodes",
                 "2", "--out", str(out), "task=drawer-open-v3", "max_steps=20", "workers=1", "sim_state=true",
                 "render=false"]) == 0
    r = LeRobotDatasetReader(out)
    assert not [k for k in r.features if k.startswith(("observation.images", "observation.depth",
                                                        "observation.segmentation", "observation.camera"))]
    assert r.features["observation.sim_state"]["names"] == list(SIM_STATE)
    ep = r.read_episode(1)
    assert ep["observation.sim_state"].shape == (20, len(SIM_STATE))
    np.testing.assert_allclose(ep["observation.sim_state"][:, :3], ep["observation.state"][:, :3], atol=1e-6)
