# The two commands of the quick start are `make serve` and `make test`; both set up first.
.PHONY: setup serve demo test lint bench

setup:
	@scripts/setup.sh

serve: setup
	uv run kagura serve

# A fake Bilibili room with scripted viewers, read by a real client: run `make serve` first.
demo: setup
	uv run kagura live demo

test: setup
	uv run pytest

lint: setup
	uv run ruff check src tests bench
	uv run mypy
	uv run lint-imports

bench: setup
	uv run python bench/first_audio.py
	uv run python bench/page.py
	uv run python bench/voice.py
	uv run python bench/startup.py
	uv run python bench/memory_trim.py
	uv run python bench/voices.py
	uv run python bench/asr_zh.py
	uv run python bench/memory_recall.py
	uv run python bench/stage.py
	uv run python bench/safety.py
	uv run python bench/stream.py
	uv run python bench/embedded_replies.py
