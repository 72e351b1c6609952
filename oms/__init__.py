"""DipMaster OMS: order management and execution for crypto trading."""

__version__ = "0.1.0"
