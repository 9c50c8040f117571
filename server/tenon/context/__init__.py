"""Cursor context: snapshot → positions → classification → prompt. Pure functions only."""
