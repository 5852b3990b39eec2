"""Fakes of the outside world for tests, over the real protocols, never by patching.

Each speaks its service's real wire protocol on a free loopback port, TLS included where the
real one uses it, so any client can be pointed at it: an OpenAI-compatible engine server
(`fake_openai`), Bilibili (`fake_bilibili`), Twitch chat (`fake_twitch`), the YouTube Data API
(`fake_youtube`) and a stand-in for Kagura's own stage that records what platform clients send
(`proxy_recorder`). The TLS fakes need the `trustme` package (a test dependency).
"""
