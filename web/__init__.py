"""Komunikator."""
