"""Reusable widgets of the annotation interface, one a module."""
