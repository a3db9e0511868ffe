"""``python -m posttrain.transfer.data``: render transfer training data (worldsim/generation/transfer_data.py).

The data maker rolls out policies in the simulator, so it lives in the command layer (docs/design.md,
"Layers and import direction"); this module is only the command under its documented name, and the
import direction test counts it as a command (layer 5). Nothing in posttrain/ imports it.
"""

from worldsim.generation.transfer_data import main

if __name__ == "__main__":
    main()
