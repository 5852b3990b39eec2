"""Bilibili: the web danmaku protocol (`client`, with `api`, `wbi`, `packets`, `proto`,
`commands`, `connection`) and the official open platform (`open_api`, `open_client`)."""
