"""Homework the client completes through their private link, and the client's journal."""
