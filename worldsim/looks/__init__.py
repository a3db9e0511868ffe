"""Render-time looks of a simulator scene: random looks (``randomize.py``: materials, lights, camera
offset, sensor noise) and a look as one vector (``vector.py``), what a look renderer is told.
Plain numpy on a scene snapshot (``SceneLooks``); nothing here imports MuJoCo."""
