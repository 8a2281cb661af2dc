"""NiceGUI pages. The UI talks to services handed to `register_pages`, never to SQL."""

from ui.backend import UiBackend
from ui.components.state import forget_session
from ui.pages import register_pages

__all__ = ["UiBackend", "forget_session", "register_pages"]
