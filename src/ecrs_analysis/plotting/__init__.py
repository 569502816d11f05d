"""Figures of the book; each function returns a matplotlib Figure and draws nothing else."""
