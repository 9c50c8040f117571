"""Evaluation through the server's own pipeline: HumanEval and the held-out split."""
