"""The demo cities' staff accounts: who the demo's people are and what they may do."""

from __future__ import annotations

#: Demo staff: (e-mail local part, display name, [unit:role …]) per tenant. Password: DEMO_PASSWORD.
DEMO_STAFF: dict[str, list[tuple[str, str, list[str]]]] = {
    "zgierz": [
        ("dyspozytor", "Anna Dyspozytorka (BOM)", ["bom:dispatcher"]),
        ("drogi", "Piotr Drogowiec (ZDM)", ["drogi:worker"]),
        ("zielen", "Ewa Zielińska (Zieleń)", ["zielen:worker"]),
        ("kierownik.gk", "Marek Kierownik (WGK)", ["gospodarka_komunalna:unit_head"]),
        ("srodowisko", "Olga Ekolog (WOŚ)", ["srodowisko:worker"]),
        ("oswietlenie", "Jan Elektryk (Wydział Inwestycji)", ["inwestycje:worker"]),
        ("pgk", "Tomasz Brygadzista (PGK)", ["pgk:external"]),
        ("prezydent", "Prezydent Miasta", ["bom:management"]),
        ("admin", "Administrator", ["bom:admin"]),
    ],
    "nieporet": [
        ("urzednik", "Katarzyna Urzędniczka", ["urzad:dispatcher", "urzad:worker"]),
        ("zuk", "Adam Konserwator (ZUK)", ["zuk:worker"]),
        ("wojt", "Wójt Gminy", ["urzad:management"]),
        ("admin", "Administrator", ["urzad:admin"]),
    ],
}
DEMO_PASSWORD = "demo1234"  # noqa: S105 - the demo's published password
