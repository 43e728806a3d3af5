"""What every ai-worker package shares; it imports none of them and only the standard library."""
