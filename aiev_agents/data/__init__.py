"""Data: where benchmark datasets come from (the sources, plain constants)."""
