"""Small inline SVG icons (24×24, `currentColor`): the portal's tiles and the category groups' `icon:` names.

Inline SVG needs no request and no `style=""` (the CSP allows neither inline styles nor
scripts; SVG presentation attributes are neither). An unknown name draws the generic dot,
so a city may name any icon in its YAML without breaking a page.
"""

from __future__ import annotations

from markupsafe import Markup

_PATHS = {
    "pin": "M12 22s-7-7.2-7-12.5a7 7 0 0 1 14 0C19 14.8 12 22 12 22zm0-9.5a3 3 0 1 0 0-6 3 3 0 0 0 0 6z",
    "map": "M3 6l6-3 6 3 6-3v15l-6 3-6-3-6 3zm6-1v13m6-10v13",
    "list": "M4 6h2v2H4zm4 0h12v2H8zM4 11h2v2H4zm4 0h12v2H8zM4 16h2v2H4zm4 0h12v2H8z",
    "star": "M12 3l2.7 5.6 6.1.9-4.4 4.3 1 6.1L12 17l-5.4 2.9 1-6.1L3.2 9.5l6.1-.9z",
    "road": "M9 3h2l-1 18H6zm4 0h2l3 18h-4zm-2 4h2v3h-2zm0 5h2v3h-2z",
    "lightbulb": "M12 2a7 7 0 0 0-4 12.7V17h8v-2.3A7 7 0 0 0 12 2zM9 19h6v2H9z",
    "tree": "M12 2l6 8h-3l4 6h-6v6h-2v-6H5l4-6H6z",
    "trash": "M5 6h14l-1.5 15h-11zM9 3h6l1 2H8zM3 5h18v2H3z",
    "droplet": "M12 2s7 8 7 13a7 7 0 0 1-14 0c0-5 7-13 7-13z",
    "volume": ("M3 9h4l5-4v14l-5-4H3zm12-1a5 5 0 0 1 0 8l-1-1.5a3 3 0 0 0 0-5z"
        "m2-3a9 9 0 0 1 0 14l-1-1.5a7 7 0 0 0 0-11z"),
    "car": ("M5 11l2-5h10l2 5h1v6h-2v2h-3v-2H9v2H6v-2H4v-6zm2.5 0h9l-1.2-3H8.7z"
        "M7 13a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"
        "m10 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"),
    "traffic-light": ("M8 2h8v20H8zm4 3a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm0 5a2 2 0 1 0 0 4 2 2 0 0 0 0-4z"
        "m0 5a2 2 0 1 0 0 4 2 2 0 0 0 0-4z"),
    "spray-can": "M8 8h8v14H8zm2-4h4v3h-4zm6-2h2v2h-2zm3 2h2v2h-2zm-3 3h2v2h-2z",
    "paw": ("M12 12c3 0 6 3.5 6 6.5 0 2-2 2.5-3 2.5s-2-1-3-1-2 1-3 1-3-.5-3-2.5C6 15.5 9 12 12 12z"
        "M6 7a2 2.5 0 1 0 .1 0zm12 0a2 2.5 0 1 0 .1 0zM9.5 3a2 2.5 0 1 0 .1 0z"
        "m5 0a2 2.5 0 1 0 .1 0z"),
    "dumpster": "M3 9h18l-2 11H5zm1-4h16l1 3H3zm3 15h2v2H7zm8 0h2v2h-2z",
    "snowflake": "M11 2h2v20h-2zM2 11h20v2H2zm2.9-6.5l1.4-1.4 12.8 12.8-1.4 1.4zm0 14.6L17.7 6.3l1.4 1.4L6.3 20.5z",
    "playground": "M4 3h2v18H4zm14 0h2v18h-2zM6 4h12v2H6zm3 2h1v8H9zm5 0h1v8h-1zm-5.5 8h7v2h-7z",
}
_GENERIC = "M12 6a6 6 0 1 0 0 12 6 6 0 0 0 0-12z"


def icon(name: str | None) -> Markup:
    """The icon `name` as inline SVG, hidden from assistive technology (the text beside it names the thing)."""
    path = _PATHS.get(name or "", _GENERIC)
    return Markup(  # noqa: S704 - the path comes from the table above, never from input
        '<svg class="icon" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">'
        f'<path fill="currentColor" fill-rule="evenodd" d="{path}"/></svg>')
