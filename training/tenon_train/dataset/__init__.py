"""Corpus → examples → filtered, deduplicated, decontaminated dataset, split by group."""
