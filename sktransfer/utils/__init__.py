"""Utilities: estimator discovery and private torch helpers."""

from sktransfer.utils.discovery import all_estimators

__all__ = ["all_estimators"]
