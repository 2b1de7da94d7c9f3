"""Closing the loop from real photos back to the graph: `feint tune` (search spaces, Optuna trials scored
on real validation photos, the best graph as a small file extending the input) and `feint ablate` (what
each feature of the graph is worth)."""
