"""Measurements shared by training and `inception bench`: FLOPs, the measured peak, precisions."""
