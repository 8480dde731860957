"""leadgen: deduplicated lead lists from parallel region agents."""

__version__ = "0.1.0"
