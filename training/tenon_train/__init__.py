"""Tenon's training side: base models, fine-tuning, evaluation and export to model bundles.

Imports torch and transformers (the ``train`` extra); the server never imports this package.
"""

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # see tenon/__init__.py

__version__ = "0.1.0"
