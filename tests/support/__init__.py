"""What this test suite and the benchmarks share, and Kagura does not ship: a real `kagura
serve` process on a free port, protocol clients, live-client processes, test speech, waits.

The fakes of outside services (OpenAI-compatible engines, Bilibili, Twitch, YouTube, a
stand-in stage) are public: `kagura.testing`.
"""
