"""Train the model only when its inputs changed since the last training.

The inputs are the NLU/stories/rules data, the domain and the config (the knowledge articles are
read by the action server at start, so editing one needs no retraining). Their SHA-256 is kept
next to the model; a missing model or a different hash trains. Run with the Rasa venv's Python.

The training skips Rasa's own check of the data (`--skip-validation`, about 10 s): `make validate`
checks the same data more strictly (`rasa data validate --fail-on-warnings`, part of `make test`),
and the check inside `rasa train` only prints warnings.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "infomigra.tar.gz"
STAMP = ROOT / "models" / "infomigra.sha256"
INPUTS = [ROOT / "domain.yml", ROOT / "config.yml", ROOT / "data"]


def fingerprint() -> str:
    digest = hashlib.sha256()
    files: list[Path] = []
    for item in INPUTS:
        files += sorted(p for p in item.rglob("*") if p.is_file()) if item.is_dir() else [item]
    for path in files:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def main() -> int:
    wanted = fingerprint()
    if MODEL.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        print(f"model is up to date: {MODEL.relative_to(ROOT)}")
        return 0
    print("training the model (data, domain or config changed, or no model yet)…", flush=True)
    rasa = Path(sys.executable).parent / "rasa"
    result = subprocess.run(
        [str(rasa), "train", "--skip-validation", "--fixed-model-name", "infomigra", "--out", "models"], cwd=ROOT
    )
    if result.returncode != 0:
        return result.returncode
    STAMP.write_text(wanted + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
