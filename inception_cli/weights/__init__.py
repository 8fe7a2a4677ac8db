"""Weights in and out of the tool: published weights (timm's ports of TF-slim's) loaded into our
networks."""
