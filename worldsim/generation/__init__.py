"""Synthetic data from simulator renders: ``worldsim generate``."""
