"""The camera-conditioned video model: the view after a commanded camera motion (Plücker rays).

Files, one concern each: ``config.py`` (``CameraTaskConfig``, ``SamplingConfig``, what a base
checkpoint fills in), ``model.py`` (the camera DiT: a base DiT plus ray projections),
``motion.py`` (camera motion as a 6-d action, smooth random orbits), ``data.py`` (the command ``python -m
posttrain.camera.data``: TabletopPush rendered under moving cameras, made by
worldsim/generation/camera_data.py), ``clips.py`` (that dataset
encoded once, and a resumable clip loader), ``task.py`` (``worldsim posttrain camera``),
``world_model.py`` (the stateful model the camera env steps), ``checkpoint.py`` (a trained run
loaded back), ``evaluate.py`` (held-out rollouts and their PSNR), ``following.py`` (how well
generated views follow the commanded motion: two-view geometry, motion scale).
"""
