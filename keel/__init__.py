"""Keel: one integrated back office."""
