"""hyperscale: the SRE toolkit for event-driven platforms on AWS."""

__version__ = "0.1.0"
