"""Task models: each maps id sequences to logits and round-trips through a checkpoint."""
