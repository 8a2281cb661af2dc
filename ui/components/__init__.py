"""Pieces shared by the pages: frame, page context, feedback, formatting, session state."""
