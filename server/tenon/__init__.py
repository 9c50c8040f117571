"""Tenon: a code-completion language server that writes Python from comments and docstrings."""

__version__ = "0.1.0"
