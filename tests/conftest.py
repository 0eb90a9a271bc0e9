import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("PRIVACY_RETENTION_JOB", "off")  # the desk would otherwise purge the real tracker store
