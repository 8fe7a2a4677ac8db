"""Everything about a run directory: its layout and metric names, claiming and locks, durable
writes, outputs never replaced, reading checkpoints, and what a saved config may instantiate."""
