"""The roof: the agent's inbox and ticket page with every ticket action, the supervisor pages,
the live sockets and the page selectors. It reads every stage below it; nothing below imports
it (import-linter, pyproject.toml)."""
