"""Engines: one small interface per kind (LLM, TTS, ASR, VAD), one module per engine.

Each kind's package has a `create(config)` that picks the engine by its config name, so the
rest of Kagura never imports a concrete engine.
"""
