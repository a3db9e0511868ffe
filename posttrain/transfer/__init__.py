"""Sim-to-real control branches (Cosmos-Transfer style)."""
