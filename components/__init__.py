"""Shared Dash building blocks and the component-id constants."""
