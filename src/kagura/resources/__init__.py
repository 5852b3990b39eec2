"""Data files shipped with Kagura."""
