"""The SPA's source keeps its promises: no HTML sinks, nothing inline, a build that hashes."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from frontend.build import build
from devtools.procs import REPO_ROOT

FRONTEND = REPO_ROOT / "frontend"
# Ways to turn a string into markup or code; data must only ever reach textContent/attributes.
SINKS = re.compile(r"\binnerHTML\b|\bouterHTML\b|\binsertAdjacentHTML\b|document\.write|"
                   r"\beval\s*\(|new\s+Function\s*\(|createContextualFragment|\bsrcdoc\b|"
                   r"setAttribute\(\s*['\"](style|on\w+)['\"]|DOMParser")


def scripts() -> list[Path]:
    found = sorted((FRONTEND / "src").rglob("*.js"))
    assert len(found) >= 5, found
    return found


def test_no_html_or_code_sinks_in_the_javascript():
    offenders = [f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}"
                 for path in scripts()
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if SINKS.search(line)]
    assert not offenders, "\n".join(offenders)


def test_the_sink_check_catches_each_sink():
    for line in ["el.innerHTML = name", "x.outerHTML=y", "el.insertAdjacentHTML('beforeend', s)",
                 "document.write(s)", "eval(code)", "new Function('a', s)",
                 "el.setAttribute('style', s)", "el.setAttribute(\"onclick\", s)"]:
        assert SINKS.search(line), line


def test_index_html_has_no_inline_script_style_or_handlers():
    index = (FRONTEND / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", index), "inline <script>"
    assert "<style" not in index and " style=" not in index
    assert not re.search(r"\son[a-z]+=", index), "inline event handler"
    assert re.search(r'<script type="module" src="/src/app.js"></script>', index)


def test_every_form_control_has_a_label():
    """Controls built in JS get an id and a <label for=...> with that id next to them."""
    source = "\n".join(path.read_text() for path in scripts())
    control_ids = re.findall(r"h\('(?:input|select|textarea)', \{id: '([\w-]+)'", source)
    assert len(control_ids) >= 4
    for control_id in control_ids:
        assert f"{{for: '{control_id}'}}" in source, control_id


def test_build_hashes_assets_and_rewrites_index(tmp_path):
    first = build(tmp_path / "dist")
    index = (tmp_path / "dist" / "index.html").read_text()
    assert "/src/" not in index
    for reference in re.findall(r'(?:src|href)="(/assets/[^"]+)"', index):
        assert (tmp_path / "dist" / reference.lstrip("/")).is_file(), reference
    assert build(tmp_path / "dist") == first  # same input, same name: caches stay warm

    copy = tmp_path / "frontend"
    shutil.copytree(FRONTEND / "src", copy / "src")
    shutil.copy(FRONTEND / "index.html", copy / "index.html")
    (copy / "src" / "styles.css").write_text("body { color: red; }\n")
    changed = build(tmp_path / "dist2", frontend_dir=copy)
    assert changed.name != first.name  # any edit gives new asset URLs
    assert not list(tmp_path.glob(".dist*")), "staging folders left behind"
