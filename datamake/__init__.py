"""datamake: a Make/Drake-style build tool for data."""

__version__ = "0.1.0"
