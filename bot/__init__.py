"""vonr-bot: an anonymous Norwegian information chatbot about violence in close relationships."""
