"""Conversations: running turns and keeping their history."""
