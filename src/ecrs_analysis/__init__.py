"""ecrs_analysis: the tested helper package behind the ecrs-book analysis book."""

__version__ = "0.1.0"
