"""Build the SPA for long-lived caching: `python frontend/build.py --out frontend/dist`.

Every file under src/ is copied into assets/<content hash>/ and index.html is rewritten to
point there. One hash for the whole folder keeps the ES modules' relative imports valid, so no
bundler is needed; any change to any asset gives a new folder name, so nginx can cache
/assets/ for a year while index.html stays no-cache. Standard library only.
"""
from __future__ import annotations

import argparse
import hashlib
import shutil
import tempfile
from pathlib import Path

FRONTEND_DIR = Path(__file__).resolve().parent
SOURCE_PREFIX = "/src/"


def content_hash(source_dir: Path) -> str:
    """A short digest of every file's relative path and bytes, in a stable order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in source_dir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(source_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def build(out_dir: Path, frontend_dir: Path = FRONTEND_DIR) -> Path:
    """Write the built SPA to `out_dir` (replaced whole, never left half-written)."""
    source_dir = frontend_dir / "src"
    index_html = (frontend_dir / "index.html").read_text(encoding="utf-8")
    if SOURCE_PREFIX not in index_html:
        raise SystemExit(f"{frontend_dir / 'index.html'}: no {SOURCE_PREFIX} asset references")
    asset_path = f"assets/{content_hash(source_dir)}"
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        shutil.copytree(source_dir, staging / asset_path)
        (staging / "index.html").write_text(
            index_html.replace(SOURCE_PREFIX, f"/{asset_path}/"), encoding="utf-8")
        staging.chmod(0o755)  # nginx workers (not root) must read it
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir / asset_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FRONTEND_DIR / "dist",
                        help="output folder (default: frontend/dist)")
    args = parser.parse_args()
    assets = build(args.out)
    print(f"built {args.out} (assets in /{assets.relative_to(args.out.resolve()).as_posix()}/)")


if __name__ == "__main__":
    main()
