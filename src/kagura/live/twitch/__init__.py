"""Twitch chat: IRC lines (`irc`), their handlers (`commands`), the session (`client`)."""
