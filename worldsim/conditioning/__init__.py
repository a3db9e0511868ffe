"""Conditioning modules for the DiT: action, camera (Plücker), view and control inputs."""
