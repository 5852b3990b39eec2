"""Answers to the protocol's request messages (configs, history, backgrounds, groups).

Shared by private sessions and the stage: each answer goes to the client that asked, through
`reply`; anything that changes the conversation acts on the conversation passed in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kagura.config import ConfigError, apply_character_preset, list_character_presets
from kagura.conversation.conversation import Conversation
from kagura.protocol import client as m
from kagura.protocol import outgoing as out

from .static import packaged_backgrounds

log = logging.getLogger(__name__)

Reply = Callable[[out.Message], Any]
BASE_CONFIG_FILE = "conf.yaml"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".bmp"}


def model_and_conf(conversation: Conversation, client_uid: str) -> out.Message:
    """`set-model-and-conf` for the conversation's character, naming the client."""
    character = conversation.config.character
    return out.model_and_conf(
        conversation.runtime.model_for(conversation.config).wire(),
        conf_name=character.conf_name,
        conf_uid=character.conf_uid,
        client_uid=client_uid,
    )


class Requests:
    """Handles the request messages of one client."""

    def __init__(self, conversation: Conversation, client_uid: str, reply: Reply) -> None:
        self.conversation = conversation
        self.client_uid = client_uid
        self.reply = reply
        self.active_file = BASE_CONFIG_FILE

    async def handle(self, message: m.ClientMessage) -> bool:
        """Answer `message` if it is a request; False when it is not one of ours."""
        match message:
            case m.Simple(type="heartbeat"):
                self.reply(out.simple("heartbeat-ack"))
            case m.Simple(type="request-init-config"):
                self.reply(model_and_conf(self.conversation, self.client_uid))
            case m.Simple(type="request-group-info"):
                self.reply(out.group_update())
            case m.AddClientToGroup() | m.RemoveClientFromGroup():
                self.reply(out.group_operation_refused())
            case m.Simple(type="fetch-configs"):
                self.reply(out.config_files(self._config_files()))
            case m.SwitchConfig(file=file):
                await self.conversation.settle()
                self._switch_config(file)
            case m.Simple(type="fetch-backgrounds"):
                self.reply(out.background_files(self._backgrounds()))
            case m.Simple(type="fetch-history-list"):
                await self._history_list()
            case m.Simple(type="create-new-history"):
                await self.conversation.settle()
                uid = await self.conversation.new_history()
                self.reply(out.new_history_created(uid))
            case m.FetchAndSetHistory(history_uid=uid):
                await self.conversation.settle()
                stored = await self.conversation.load_history(uid)
                if stored is None:
                    self.reply(out.error(f"no history {uid!r} for this character"))
                else:
                    self.reply(out.history_data([s.to_wire() for s in stored]))
            case m.DeleteHistory(history_uid=uid):
                await self._delete_history(uid)
            case _:
                return False
        return True

    def _config_files(self) -> list[dict[str, str]]:
        base = self.conversation.runtime.config
        files = [{"filename": BASE_CONFIG_FILE, "name": base.character.conf_name}]
        files += [{"filename": f, "name": n} for f, n in list_character_presets(base)]
        files.sort(key=lambda entry: entry["filename"] != self.active_file)  # active first
        return files

    def _switch_config(self, filename: str) -> None:
        base = self.conversation.runtime.config
        try:
            config = (
                base if filename == BASE_CONFIG_FILE else apply_character_preset(base, filename)
            )
        except ConfigError as exc:
            self.reply(out.error(f"cannot switch to {filename!r}: {exc}"))
            return
        self.conversation.switch_config(config)  # every client shows the new model
        self.active_file = filename
        self.reply(out.config_switched(config.character.conf_name))

    def _backgrounds(self) -> list[str]:
        config = self.conversation.runtime.config
        folder = config.resolve_path(config.system.backgrounds_dir)
        own = list(folder.iterdir()) if folder.is_dir() else []
        found = [*own, *packaged_backgrounds()]
        return sorted({p.name for p in found if p.suffix.lower() in IMAGE_SUFFIXES})

    async def _history_list(self) -> None:
        conf_uid = self.conversation.config.character.conf_uid
        summaries = await self.conversation.runtime.history.list(conf_uid)
        self.reply(out.history_list([s.to_wire() for s in summaries]))

    async def _delete_history(self, uid: str) -> None:
        store = self.conversation.runtime.history
        ours = uid == self.conversation.history_uid
        if store.holders(uid) > (1 if ours else 0):
            # Another conversation (the stage, another page) records into it.
            self.reply(out.error(f"history {uid!r} is in use by another conversation"))
            self.reply(out.history_deleted(uid, False))
            return
        if ours:
            await self.conversation.settle()
        conf_uid = self.conversation.config.character.conf_uid
        deleted = await self.conversation.runtime.history.delete(conf_uid, uid)
        if deleted and self.conversation.history_uid == uid:
            self.conversation.history_uid = None
            self.conversation.memory.clear()
        self.reply(out.history_deleted(uid, deleted))
