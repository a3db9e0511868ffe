"""``python -m posttrain.camera.data``: render camera post-training data (worldsim/generation/camera_data.py).

The data maker drives the simulator, so it lives in the command layer (docs/design.md, "Layers and
import direction"); this module is only the command under its documented name, and the import
direction test counts it as a command (layer 5). Nothing in posttrain/ imports it.
"""

from worldsim.generation.camera_data import main

if __name__ == "__main__":
    raise SystemExit(main())
