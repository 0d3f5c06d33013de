"""The application: Telegram handlers, delivery, digest, moderation, scheduling and the CLI."""
