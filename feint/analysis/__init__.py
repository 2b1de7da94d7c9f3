"""Evaluation beyond accuracy: why synthetic data fails on real photos, and what to change."""
