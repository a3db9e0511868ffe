"""Sim-to-real control branches (Cosmos-Transfer style): new looks for a scene from its control maps.

Files, one concern each: ``config.py`` (``TransferTaskConfig``, what the base and the codec fill
in, the network and sampling configs it implies), ``model.py`` (the base DiT plus one control
branch per modality), ``data.py`` (the command ``python -m posttrain.transfer.data``: TabletopPush rendered in
random looks with depth, segmentation and the canonical render, made by
worldsim/generation/transfer_data.py), ``clips.py`` (that dataset as
target latents and control maps, and a resumable clip loader), ``sample.py`` (a clip or a whole
episode from controls and noise), ``task.py`` (``worldsim posttrain transfer``), ``evaluate.py``
(control fidelity on held-out episodes), ``metrics.py`` (edge F1, segmentation agreement, look
diversity), ``checkpoint.py`` (a trained model loaded back, and exported with its branches only).
The look renderer beside them: ``look_config.py``, ``look_renderer.py`` (the network: a frame, its
depth and segmentation and a look vector -> the frame in that look), ``look_train.py``,
``look_export.py`` and ``look_model.py`` (a shipped one loaded: looks from seeds, episodes redrawn).
"""
