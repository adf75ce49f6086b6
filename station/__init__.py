"""Scan station: one-button digitization desk for Vietnamese government offices."""

__version__ = "0.1.0"
