"""The widget channel (protocol §3): finished replies and status lines pushed to Live2D
widget pages, from `kagura serve` or from anyone's own Python pipeline."""

from kagura.protocol.frames import ProtocolError

from .api import get_ws_client, get_ws_server, install_server, send_llm_response, send_status
from .client import WidgetClient
from .hub import DeliveryReport, WidgetHub
from .server import WidgetServer

__all__ = [
    "DeliveryReport",
    "ProtocolError",
    "WidgetClient",
    "WidgetHub",
    "WidgetServer",
    "get_ws_client",
    "get_ws_server",
    "install_server",
    "send_llm_response",
    "send_status",
]
