"""Engines: one small interface per kind (LLM, TTS, ASR, VAD), one module per engine.

Each kind's package has a `create(config)` that builds the engine its `PROVIDERS` registry
lists under the config's `provider` name (see `registry`), so the rest of Kagura never
imports a concrete engine. Engines that run a model in-process share `local.LocalModel`.
"""
