"""Sim-to-real augmentation of datasets through a transfer model."""
