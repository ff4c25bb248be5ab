"""Where events go: shell hooks and apprise notifiers, each with its own filter."""
