"""Tenon's training side: base models, fine-tuning, evaluation and export to model bundles.

Imports torch and transformers (the ``train`` extra); the server never imports this package.
"""

__version__ = "0.1.0"
