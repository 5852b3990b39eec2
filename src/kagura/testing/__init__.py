"""Test helpers that stand in for the outside world over real protocols, never by patching."""
