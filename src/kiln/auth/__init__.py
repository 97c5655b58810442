"""Users, login, tokens, API keys, roles, projects and permissions."""
