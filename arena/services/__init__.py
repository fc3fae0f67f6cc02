"""Services layer."""
