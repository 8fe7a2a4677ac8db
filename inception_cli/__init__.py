"""inception: train, evaluate and compare the networks of Szegedy et al., 2016."""

__version__ = "0.1.0"
