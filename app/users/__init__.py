"""User management: accounts with a role and a scope, managed from the level above."""
