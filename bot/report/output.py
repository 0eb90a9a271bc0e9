"""Write a report: `informe-YYYY-MM.html` and one CSV per table (`NN-<table>.csv`, UTF-8 with BOM for
spreadsheets, cells as in the HTML: counts under 5 as "<5"). Files are written next to each other
and then moved into place, so a reader never sees half a report."""

from __future__ import annotations

import csv
import io
import os
import tempfile
import zipfile
from pathlib import Path

from bot.report.html import render
from bot.report.model import Report
from bot.store.db import ROOT

DEFAULT_DIR = ROOT / "var" / "reports"
ENV = "REPORTS_DIR"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def reports_dir() -> Path:
    return Path(os.environ.get(ENV, "").strip() or DEFAULT_DIR)


def html_name(month: str) -> str:
    return f"informe-{month}.html"


def _cell(value: str) -> str:
    # A spreadsheet must not run what a person wrote as a formula (the questions' examples).
    return "'" + value if value.startswith(_FORMULA_START) and not value.lstrip("-").replace(",", "").isdigit() else value


def table_csv(columns: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([[_cell(c) for c in row] for row in rows])
    return buffer.getvalue()


def _write(path: Path, text: str, encoding: str = "utf-8") -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding=encoding, newline="") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write(report: Report, out_dir: Path) -> list[Path]:
    """Write the HTML file and the CSV files into `out_dir` (created); the paths, HTML first."""
    out_dir.mkdir(parents=True, exist_ok=True)
    month = f"{report.month:%Y-%m}"
    written = [out_dir / html_name(month)]
    for stale in out_dir.glob("[0-9][0-9]-*.csv"):  # a table may be gone since the last build
        stale.unlink()
    for index, table in enumerate(report.tables, 1):
        path = out_dir / f"{index:02d}-{table.key}.csv"
        _write(path, table_csv(table.columns, table.shown_rows(csv=True)), encoding="utf-8-sig")
        written.append(path)
    _write(written[0], render(report))  # last: its presence means the report is complete
    return written


def zip_csv(out_dir: Path) -> bytes:
    """Every CSV of a report folder in one ZIP file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(out_dir.glob("[0-9][0-9]-*.csv")):
            archive.write(path, path.name)
    return buffer.getvalue()
