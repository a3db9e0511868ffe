"""worldsim."""
