"""`infomigra desk …`: accounts from the command line, the password never on it."""

import io
import sys

import pytest

from bot.cli import build_parser, main
from bot.desk.accounts import Accounts
from bot.desk.totp import grouped
from tests.databases import migrated_engine

PASSWORD = "clave-de-prueba-larga"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    with migrated_engine(request.param, tmp_path) as engine:
        yield engine, engine.url.render_as_string(hide_password=False)


def run(monkeypatch, url, *argv, stdin=""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["desk", *argv, "--url", url])


def test_accounts_are_created_listed_disabled_and_enabled(monkeypatch, capsys, database):
    engine, url = database
    assert run(monkeypatch, url, "create-user", "--email", "Ana@Example.org", "--name", "Ana Quispe",
               "--role", "advisor", "--role", "supervisor", stdin=PASSWORD + "\n") == 0
    created = capsys.readouterr().out
    assert "created ana@example.org (advisor, supervisor)" in created
    secret = Accounts(engine).totp_secret("ana@example.org")
    assert secret and grouped(secret) in created and "otpauth://totp/" in created and secret in created
    assert Accounts(engine).authenticate("ana@example.org", PASSWORD) is not None
    assert run(monkeypatch, url, "list-users") == 0
    listing = capsys.readouterr().out
    assert "ana@example.org" in listing and "active" in listing and "Ana Quispe" in listing and PASSWORD not in listing
    assert run(monkeypatch, url, "create-user", "--email", "jefa@example.org", "--name", "Jefa", "--role", "supervisor",
               stdin=PASSWORD + "\n") == 0  # Ana is not the last supervisor, so she may be disabled
    assert run(monkeypatch, url, "disable-user", "--email", "ana@example.org") == 0
    assert Accounts(engine).authenticate("ana@example.org", PASSWORD) is None
    run(monkeypatch, url, "list-users")
    assert "DISABLED" in capsys.readouterr().out
    assert run(monkeypatch, url, "enable-user", "--email", "ana@example.org") == 0
    assert run(monkeypatch, url, "set-password", "--email", "ana@example.org", stdin="otra-clave-mas-larga\r\n") == 0
    assert Accounts(engine).authenticate("ana@example.org", "otra-clave-mas-larga") is not None


def test_refusals_are_clear(monkeypatch, capsys, database):
    _, url = database
    args = ["create-user", "--email", "ana@example.org", "--name", "Ana", "--role", "reviewer"]
    assert run(monkeypatch, url, *args, stdin="corta\n") == 1
    assert "al menos 12 caracteres" in capsys.readouterr().err
    assert run(monkeypatch, url, *args, stdin="") == 1
    assert run(monkeypatch, url, *args, stdin=PASSWORD + "\n") == 0
    assert run(monkeypatch, url, *args, stdin=PASSWORD + "\n") == 1
    assert "Ya existe una cuenta" in capsys.readouterr().err
    assert run(monkeypatch, url, "disable-user", "--email", "nadie@example.org") == 1
    assert run(monkeypatch, url, "set-password", "--email", "nadie@example.org", stdin=PASSWORD) == 1
    assert "no account" in capsys.readouterr().err


def test_the_last_active_supervisor_is_not_disabled(monkeypatch, capsys, database):
    """The rule of the desk's Cuentas page (Accounts.set_enabled) holds on the command line too."""
    engine, url = database
    for email, role in (("jefa@example.org", "supervisor"), ("asesor@example.org", "advisor")):
        assert run(monkeypatch, url, "create-user", "--email", email, "--name", "X", "--role", role, stdin=PASSWORD + "\n") == 0
    capsys.readouterr()
    assert run(monkeypatch, url, "disable-user", "--email", "jefa@example.org") == 2
    refused = capsys.readouterr().err
    assert "not disabled: Es la última cuenta de supervisión activa" in refused and "--role supervisor" in refused
    assert Accounts(engine).by_email("jefa@example.org").active
    assert Accounts(engine).authenticate("jefa@example.org", PASSWORD) is not None
    assert run(monkeypatch, url, "disable-user", "--email", "asesor@example.org") == 0  # not a supervisor

    assert run(monkeypatch, url, "create-user", "--email", "otra@example.org", "--name", "Otra", "--role", "supervisor",
               stdin=PASSWORD + "\n") == 0
    assert run(monkeypatch, url, "disable-user", "--email", "jefa@example.org") == 0  # Otra still supervises
    assert not Accounts(engine).by_email("jefa@example.org").active
    capsys.readouterr()
    assert run(monkeypatch, url, "disable-user", "--email", "otra@example.org") == 2  # now Otra is the last one
    assert "última cuenta de supervisión" in capsys.readouterr().err
    assert run(monkeypatch, url, "enable-user", "--email", "jefa@example.org") == 0
    assert run(monkeypatch, url, "disable-user", "--email", "otra@example.org") == 0


def test_the_password_cannot_be_given_on_the_command_line(capsys):
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["desk", "create-user", "--email", "a@example.org", "--name", "A", "--role", "advisor",
                           "--password", PASSWORD])
    with pytest.raises(SystemExit):
        parser.parse_args(["desk", "create-user", "--email", "a@example.org", "--name", "A", "--role", "jefe"])
    assert "invalid choice" in capsys.readouterr().err


def test_a_database_without_the_tables_is_named(monkeypatch, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        run(monkeypatch, f"sqlite:///{tmp_path / 'vacia.db'}", "list-users")
    assert exit_.value.code == 2 and "infomigra db upgrade" in capsys.readouterr().err


def test_the_second_factor_is_enrolled_reset_and_removed_from_the_command_line(monkeypatch, capsys, database):
    engine, url = database
    assert run(monkeypatch, url, "create-user", "--email", "jefa@example.org", "--name", "Jefa", "--role", "supervisor",
               "--totp-at-login", stdin=PASSWORD + "\n") == 1
    assert "segundo factor" in capsys.readouterr().err
    assert run(monkeypatch, url, "create-user", "--email", "rev@example.org", "--name", "Rev", "--role", "reviewer",
               "--totp-at-login", stdin=PASSWORD + "\n") == 0
    assert "enrolled at the first login" in capsys.readouterr().out
    assert Accounts(engine).totp_secret("rev@example.org") is None
    run(monkeypatch, url, "list-users")
    assert "no-totp" in capsys.readouterr().out
    assert run(monkeypatch, url, "reset-totp", "--email", "rev@example.org") == 0
    out = capsys.readouterr().out
    secret = Accounts(engine).totp_secret("rev@example.org")
    assert secret and grouped(secret) in out and "otpauth://totp/" in out
    assert run(monkeypatch, url, "remove-totp", "--email", "rev@example.org") == 0
    assert Accounts(engine).totp_secret("rev@example.org") is None
    assert run(monkeypatch, url, "create-user", "--email", "jefa@example.org", "--name", "Jefa", "--role", "supervisor",
               stdin=PASSWORD + "\n") == 0
    capsys.readouterr()
    assert run(monkeypatch, url, "remove-totp", "--email", "jefa@example.org") == 1
    assert "reset-totp" in capsys.readouterr().err
    assert run(monkeypatch, url, "reset-totp", "--email", "nadie@example.org") == 1
