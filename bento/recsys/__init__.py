"""Recommender math: data format, matrices, algorithms, evaluation. No BentoML, no web."""
