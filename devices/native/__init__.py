"""The native device protocol's wire format (its parser); the routes are devices/protocol.py."""

from devices.native.parser import parse_native

__all__ = ["parse_native"]
