"""Custom actions (rasa_sdk), served by `rasa run actions`."""
