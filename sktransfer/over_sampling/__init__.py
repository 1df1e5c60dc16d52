"""Placeholder; filled by its own module."""

__all__ = []
