"""Helpers for users tests."""
