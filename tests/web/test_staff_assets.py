"""The staff pages' assets and catalogs: vendored files as recorded, nothing from a CDN, Polish for every message."""

from __future__ import annotations

import hashlib
import json
import re
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader
from pathlib import Path
from types import ModuleType

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
STAFF = ROOT / "web" / "staff"


def _script(name: str) -> ModuleType:
    """A script of scripts/ (no .py suffix) as a module, loaded afresh."""
    loader = SourceFileLoader(f"script_{name}", str(ROOT / "scripts" / name))
    spec = spec_from_loader(loader.name, loader)
    assert spec is not None
    module = module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_vendored_files_match_their_manifest() -> None:
    manifest = json.loads((STAFF / "static/vendor/manifest.json").read_text())
    packages = {entry["package"]: entry for entry in manifest["packages"]}
    assert {"htmx.org", "leaflet", "axe-core"} <= set(packages)
    assert packages["htmx.org"]["version"] == "2.0.11"  # UI.md pins 2.x; 4.x renames the options
    for entry in manifest["packages"]:
        assert re.fullmatch(r"\d+\.\d+\.\d+", entry["version"]), entry  # pinned, never "latest"
        for name, digest in entry["files"].items():
            path = ROOT / name
            assert path.is_file(), f"{name} is in the manifest but missing"
            assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{name} differs from the manifest"
    # every vendored file on disk is recorded (nothing slipped in by hand)
    recorded = {name for entry in manifest["packages"] for name in entry["files"]}
    on_disk = {str(p.relative_to(ROOT)) for p in (STAFF / "static/vendor").rglob("*")
               if p.is_file() and p.name != "manifest.json"}
    assert on_disk <= recorded


def test_the_vendor_script_lists_what_the_manifest_records() -> None:
    vendor = _script("vendor")
    manifest = json.loads((STAFF / "static/vendor/manifest.json").read_text())
    assert [(p, v) for p, v, _, _ in vendor.PACKAGES] == [(e["package"], e["version"]) for e in manifest["packages"]]
    assert vendor.check() == []


def test_a_changed_vendored_file_is_noticed(tmp_path: Path) -> None:
    vendor = _script("vendor")
    manifest = json.loads((STAFF / "static/vendor/manifest.json").read_text())
    entry = manifest["packages"][0]
    name = next(iter(entry["files"]))
    copy = tmp_path / name
    copy.parent.mkdir(parents=True)
    copy.write_bytes((ROOT / name).read_bytes() + b"\n// changed")
    one = {**entry, "files": {name: entry["files"][name]}}
    (tmp_path / "manifest.json").write_text(json.dumps({"packages": [one]}))
    vendor.ROOT, vendor.MANIFEST = tmp_path, tmp_path / "manifest.json"
    actual = hashlib.sha256(copy.read_bytes()).hexdigest()
    assert vendor.check() == [f"{name}: differs from the manifest (sha256 {actual}, recorded {entry['files'][name]})"]


def test_no_page_loads_anything_from_another_site() -> None:
    for path in [*(STAFF / "templates").glob("*.html"), STAFF / "static/app.js", STAFF / "static/app.css"]:
        text = path.read_text()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), f"{path.name} names another site"
        assert "<style" not in text and " style=" not in text, f"{path.name} has inline styles (CSP)"
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), f"{path.name} has an inline script (CSP)"
        assert not re.search(r"\son[a-z]+=", text) and "hx-on" not in text, f"{path.name} has inline handlers"


def test_every_message_has_a_polish_translation() -> None:
    i18n = _script("i18n")
    extracted = i18n.extract()
    with (STAFF / "locale/pl/LC_MESSAGES/messages.po").open("rb") as po:
        polish = read_po(po, locale="pl")
    missing = []
    for message in extracted:
        if not message.id:
            continue
        translated = polish.get(message.id)
        strings = (translated.string if translated is not None else None) or ""
        if not strings or (isinstance(strings, tuple) and (len(strings) != 3 or not all(strings))):
            missing.append(message.id)  # Polish has three plural forms: 1, 2-4, 5+
    assert missing == [], f"messages without a Polish translation (run ./scripts/i18n and translate): {missing}"


def test_the_catalogs_are_up_to_date_with_the_sources() -> None:
    i18n = _script("i18n")
    template = i18n.extract()
    for language in ("pl", "en"):
        current = (STAFF / f"locale/{language}/LC_MESSAGES/messages.po").read_bytes()
        assert i18n._without_dates(i18n.updated(language, template)) == i18n._without_dates(current), (
            f"the {language} catalog is stale: run ./scripts/i18n")


def test_the_tile_host_is_the_only_other_site_a_page_may_load_images_from() -> None:
    from komunikator.web.staff.security import content_security_policy

    assert "img-src 'self' data: blob:;" in content_security_policy()
    assert "img-src 'self' data: blob: https://tiles.zgierz.example.pl;" in content_security_policy(
        "https://tiles.zgierz.example.pl/{z}/{x}/{y}.png")
    assert "img-src 'self' data: blob: https://*.tile.openstreetmap.org;" in content_security_policy(
        "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png")


def test_a_tile_source_is_https_and_cannot_break_out_of_its_attribute() -> None:
    import pytest
    from pydantic import ValidationError

    from komunikator.engine.schema.tenant import TileSource

    ok = TileSource(url="https://tiles.example.pl/{z}/{x}/{y}.png", attribution="© OpenStreetMap")
    assert ok.url.startswith("https://")
    for bad in ("http://tiles.example.pl/{z}/{x}/{y}.png", 'https://x.pl/"><script>', "javascript:alert(1)"):
        with pytest.raises(ValidationError):
            TileSource(url=bad, attribution="x")
