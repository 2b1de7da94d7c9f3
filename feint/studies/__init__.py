"""Studies: the methodology of measuring what synthetic data is worth, declared in one file."""
