"""The drop-box folder, explained plainly: what it does, its full path, a copy button."""

from nicegui import ui

from ui.backend import UiBackend


def dropbox_note(
    backend: UiBackend, token: str, tenant_id: str, workspace: str, centered: bool = True
) -> None:
    """A short block about the workspace's drop-box folder (nothing when it is off);
    centred under an empty state, or left-aligned with a heading (help page)."""
    try:
        path = backend.dropbox_folder(token, tenant_id)
    except Exception:  # noqa: BLE001 - an optional hint; the page works without it
        return
    if not path:
        return
    box = ui.column().classes("w-full gap-1").props("data-testid=dropbox-note")
    box.classes("items-center text-center" if centered else "items-start")
    with box:
        if not centered:
            ui.label("Drop-box folder").classes("font-medium")
        lead = "Or use the drop-box folder: files" if centered else "Files"
        ui.label(
            f"{lead} copied into this folder on the appliance's computer are added to "
            f"{workspace} by themselves within a few seconds, and moved to its .done "
            "subfolder once stored."
        ).classes("text-body2 opacity-80 max-w-prose")
        with ui.row().classes("items-center gap-1 no-wrap max-w-full"):
            ui.label(path).classes("font-mono text-caption break-all").props(
                "data-testid=dropbox-path"
            )
            ui.button(icon="content_copy", on_click=lambda: _copy(path)).props(
                "flat dense round aria-label='Copy the folder path'"
            ).tooltip("Copy")


def _copy(path: str) -> None:
    ui.clipboard.write(path)
    ui.notify("Folder path copied", type="positive")
