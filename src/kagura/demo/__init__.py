"""`kagura live demo`: a platform client at work without an account or a real room.

A local fake Bilibili room (`kagura.testing.fake_bilibili`, over TLS with a throwaway
certificate) is filled by scripted viewers (`viewers`), and a real `kagura live bilibili`
process reads it and feeds the stage of `kagura serve` (`run`). This is the one product
feature built on the testing fakes: the import-linter contract that keeps `kagura.testing`
out of the product lets the CLI reach it through a single, named edge (see pyproject.toml).
"""
