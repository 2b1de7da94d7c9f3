"""Scene graphs: typed, validated YAML describing what to randomise and how."""

from feint.graph.bottles import BottlesGraph
from feint.graph.distributions import Distribution, parse_distribution
from feint.graph.loader import Graph, load_graph
from feint.graph.schema import MarineGraph

__all__ = ["BottlesGraph", "Distribution", "Graph", "MarineGraph", "load_graph", "parse_distribution"]
