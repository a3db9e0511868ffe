"""Training tasks plugged into ``worldsim.training.trainer.Trainer``: one per ``worldsim train`` stage."""
