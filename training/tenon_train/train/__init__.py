"""Fine-tuning: render examples in the shared prompt format, train (LoRA or full), merge."""
