"""`uv run python scripts/run_bilibili_live.py [--room ID ...]`: the same as
`kagura live bilibili`, for those who start the Bilibili client the documented way."""

import sys

from kagura.live.cli import live_app

if __name__ == "__main__":
    live_app(["bilibili", *sys.argv[1:]], prog_name="run_bilibili_live.py")
