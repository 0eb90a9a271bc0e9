"""PERÚ INFOMIGRA assistant: knowledge engine, channels, stores, desk, reports and CLI."""

__version__ = "0.1.0"
