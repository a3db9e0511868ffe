"""The camera-conditioned video model."""
