"""The MuJoCo camera scene the reprojection tests render from (48 px, 60 degree field of view)."""

import pytest


@pytest.fixture(scope="module")
def scene():
    from envs.camera_scene import CameraScene

    s = CameraScene(48, 60.0)
    yield s
    s.close()
