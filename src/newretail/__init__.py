"""newretail: a retail data middle platform that puts every channel's people, goods and places in one model."""

__version__ = "0.1.0"
