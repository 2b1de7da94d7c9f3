"""feint: render labelled images from randomised 3D scenes, train on them, measure on real photos."""

__version__ = "0.1.0"
