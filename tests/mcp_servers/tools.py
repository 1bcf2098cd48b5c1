"""The tools and resources every test MCP server offers (one definition, two transports)."""

from __future__ import annotations

import base64
import os
import zlib
from struct import pack

import anyio
from mcp.server.mcpserver import Context, Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel

READ_ONLY = ToolAnnotations(readOnlyHint=True)


def tiny_png() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return pack(">I", len(data)) + kind + data + pack(">I", zlib.crc32(kind + data))

    header = pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


TINY_PNG_B64 = base64.b64encode(tiny_png()).decode()


class Weather(BaseModel):
    city: str
    temp: float


def build(name: str, *, growing: bool = False) -> MCPServer:
    server: MCPServer = MCPServer(name)

    if growing:

        @server.tool(annotations=READ_ONLY)
        async def grow(ctx: Context, then_exit: bool = False) -> str:
            """Add the tool `grown` and tell the client its tools changed (then exit, if asked)."""

            @server.tool(name="grown", annotations=READ_ONLY)
            def grown() -> str:
                return "grown"

            await ctx.session.send_tool_list_changed()
            if then_exit:
                os._exit(3)
            return "grew"

    @server.tool(annotations=READ_ONLY)
    def echo(text: str) -> str:
        """Echo text back."""
        return f"echo: {text}"

    @server.tool(annotations=READ_ONLY, structured_output=True)
    def weather(city: str) -> Weather:
        """The weather as structured content."""
        return Weather(city=city, temp=21.5)

    @server.tool(annotations=READ_ONLY)
    def picture() -> Image:
        """A tiny image."""
        return Image(data=tiny_png(), format="png")

    @server.tool(annotations=READ_ONLY)
    def fails() -> str:
        """Always fails with a message."""
        raise ToolError("the tool failed on purpose")

    @server.tool(annotations=READ_ONLY)
    async def sleepy(seconds: float) -> str:
        """Answers after a while."""
        await anyio.sleep(seconds)
        return "slept"

    @server.tool(annotations=READ_ONLY)
    def crash() -> str:
        """Kills the server process."""
        os._exit(3)

    @server.tool(name="tool.with.dot", annotations=READ_ONLY)
    def dotted() -> str:
        return "dotted"

    @server.tool()
    def write_note(text: str) -> str:
        """No annotations: may change things, so it needs approval."""
        return f"wrote {text}"

    @server.tool(annotations=ToolAnnotations(destructiveHint=True))
    def destroy() -> str:
        """Destructive: always needs approval."""
        return "destroyed"

    @server.resource("file:///readme.txt", name="readme", mime_type="text/plain")
    def readme() -> str:
        return "read me"

    @server.resource("notes://{note_id}", name="note")
    def note(note_id: str) -> str:
        return f"note {note_id}"

    return server
