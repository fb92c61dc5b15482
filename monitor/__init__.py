"""tension-monitor: early sight of community tension and disinformation for a council's
community safety partnership. See README.md for how to run it and docs/ for the design."""

__version__ = "0.1.0"
