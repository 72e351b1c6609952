"""Dash pages: one module per page (register, layout, callbacks)."""
