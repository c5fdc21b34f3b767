"""Accounts, login, roles and scope."""
