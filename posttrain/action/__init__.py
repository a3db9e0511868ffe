"""The latent action-conditioned world model."""
