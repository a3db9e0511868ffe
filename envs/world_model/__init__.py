"""The world-model envs and what they share.

``env.py`` (``worldsim/WorldModel-v0``) and ``vector_env.py`` (its native vector env) step any
folder-loaded world model (``posttrain.common.interface.WorldModel``); ``camera_env.py``
(``worldsim/CameraWorld-v0``) and ``multiview_env.py`` (``worldsim/DrivingWorldModel-v0``) step
the camera and multi-view recipes' world models; ``perceived.py`` is ``worldsim/PerceivedSim-v0``.
``session.py`` loads and checks a folder against the simulator it imitates and builds spaces;
``resets.py`` says where episodes start. Nothing heavy is imported here: the registry names
these modules by string and they are imported when an env is made.
"""
