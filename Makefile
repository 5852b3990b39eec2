# The two commands of the quick start are `make serve` and `make test`; both set up first.
.PHONY: setup serve test lint bench

setup:
	@scripts/setup.sh

serve: setup
	uv run kagura serve

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
