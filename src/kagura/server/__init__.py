"""The HTTP/WebSocket server: FastAPI app, endpoints, connections."""
