"""Pages of accounts and projects: sign-in and registration, the account, projects, user administration."""
