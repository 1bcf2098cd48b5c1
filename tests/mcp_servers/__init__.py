"""Tiny MCP servers written with the official SDK's server side, for the MCP tests."""
