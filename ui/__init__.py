"""NiceGUI pages. The UI talks to services handed to `register_pages`, never to SQL."""

from ui.pages import UiBackend, register_pages

__all__ = ["UiBackend", "register_pages"]
