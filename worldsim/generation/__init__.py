"""Synthetic data from simulator renders: ``worldsim generate`` and the recipes' data makers
(``camera_data.py``, ``transfer_data.py``). They make simulators and policies, so this package is
the command layer (layer 5, docs/design.md): nothing in worldsim/, posttrain/, envs/, policies/ or
evaluation/ below it imports it."""
