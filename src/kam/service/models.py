"""Models: see the app's services."""
