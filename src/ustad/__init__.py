"""ustad: backend for an AI speaking tutor that teaches Urdu speakers English."""

__version__ = "0.1.0"
