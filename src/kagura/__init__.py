"""Kagura: an AI VTuber server."""
