"""Data: reading user files safely, and turning text into batches of ids."""
