"""Sim-to-real augmentation: ``worldsim augment`` re-renders a dataset through a transfer model.

Files, one concern each: ``config.py`` (``AugmentConfig``: looks, steps, episodes, controls),
``sources.py`` (what it reads: a LeRobotDataset or a Replicator render folder), ``command.py``
(the resumable run: control maps, generated frames, the new LeRobotDataset).
"""
