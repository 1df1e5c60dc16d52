"""Baseline correction transformers backed by pybaselines."""

__all__ = []
