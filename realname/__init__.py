"""Construction-worker real-name management platform: app factory, CLI and shared plumbing."""
