"""Test helpers that stand in for paid remote APIs over real HTTP."""

from .scripted_server import ScriptedReply, ScriptedServer, key_by_role

__all__ = ["ScriptedReply", "ScriptedServer", "key_by_role"]
