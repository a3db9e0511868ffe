"""``import envs, policies, evaluation`` must not pull heavy packages (STYLE habit 3)."""

import subprocess
import sys

HEAVY = ("mujoco", "metaworld", "megatron", "transformer_engine", "lerobot", "isaacsim", "torch", "av")


def test_top_level_packages_import_light():
    code = (
        "import sys, envs, policies, evaluation, worldsim, worldsim.data;"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"heavy modules imported: {out.stdout.strip()}"


def test_registering_envs_does_not_build_them():
    code = "import sys, gymnasium as gym, envs; gym.spec('worldsim/MetaWorld-v0'); print('mujoco' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
