"""Offices (bot/offices) on SQLite and PostgreSQL: the regions a person names, where a conversation goes,
each office's hours, what a supervisor may create or change, who works where, and the migration that
makes the ministry in Lima the main office of every account that already existed."""

import datetime as dt
import uuid
from contextlib import contextmanager

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, Table, create_engine, insert, select, text
from sqlalchemy.engine import make_url

from bot.desk.schema import desk_users
from bot.offices import regions
from bot.offices.directory import OfficeError, Offices
from bot.offices.hours import OfficeHours
from bot.offices.schema import desk_user_offices, offices
from bot.store.clock import now
from bot.store.db import ROOT, database_url, get_engine
from tests.databases import ADMIN_URL, ensure_postgres, migrated_engine

LIMA = dt.timezone(dt.timedelta(hours=-5))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    with migrated_engine(request.param, tmp_path) as engine:
        yield engine


def add_users(engine, *emails, active=True):
    with engine.begin() as conn:
        conn.execute(insert(desk_users), [{"email": e, "display_name": e.split("@")[0], "password_hash": "x", "roles": "advisor",
                                           "active": active, "created_at": now()} for e in emails])
        rows = conn.execute(select(desk_users.c.email, desk_users.c.id)).all()
    return {email: user_id for email, user_id in rows if email in emails}


# regions -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("said", "region"), [
    ("soy de Juliaca", "puno"),
    ("vivo en Madre de Dios", "madre-de-dios"),
    ("estoy en PUERTO MALDONADO", "madre-de-dios"),
    ("trabajo en España", None),
    ("PERÚ INFOMIGRA", None),
    ("Cusco", "cusco"),
    ("en el Cuzco y luego Puno", "cusco"),
    ("soy de Áncash, de Chimbote", "ancash"),
    ("vivo en la libertad, en Trujillo", "la-libertad"),
    ("vivo en San Martín de Porres", "lima"),  # a district of Lima, not the region San Martín
    ("me mudé a Tarapoto", "san-martin"),
    ("", None),
])
def test_the_region_a_person_names(said, region):
    assert regions.find(said) == region


def test_regions_from_a_list():
    assert regions.normalize("Cusco, Madre de Dios, cusco") == ["cusco", "madre-de-dios"]
    assert regions.normalize(["la-libertad", "Juliaca"]) == ["la-libertad", "puno"]
    assert regions.normalize("") == []
    assert regions.name("san-martin") == "San Martín" and regions.name("desconocida") == "desconocida"
    for bad in ("Narnia", "Cusco Puno", "España"):
        with pytest.raises(ValueError):
            regions.normalize(bad)


# routing and hours ---------------------------------------------------------------------------------

def test_a_regional_office_before_the_main_one_inactive_ones_skipped(engine):
    directory = Offices(engine)
    main = directory.main()
    arequipa = directory.create("arequipa", "Dirección Regional de Trabajo de Arequipa", "Arequipa, Moquegua")
    callao = directory.create("callao", "Dirección Regional del Callao", ["callao"])
    assert directory.route("Soy de Ilo y quiero trabajar en Chile").id == arequipa.id
    assert directory.route("vivo en el Callao").id == callao.id  # the main office serves Callao too: the regional one first
    assert directory.route("vivo en Lima").id == main.id
    assert directory.route("soy de Juliaca").id == main.id  # no office serves Puno
    assert directory.route("hola, quiero trabajar en España").id == main.id
    directory.update(arequipa.id, active=False)
    assert directory.route("soy de Arequipa").id == main.id
    assert directory.route("vivo en el Callao").id == callao.id
    directory.update(callao.id, active=False)
    assert directory.route("vivo en el Callao").id == main.id  # Lima's serves it


def test_hours_per_office(engine):
    directory = Offices(engine)
    service = OfficeHours.parse("lun-vie 08:30-16:30", holidays="2026-12-25")
    cusco = directory.create("cusco", "Cusco", "Cusco", hours="lun-sab 08:00-13:00")
    saturday = dt.datetime(2026, 12, 5, 10, 0, tzinfo=LIMA)
    assert directory.hours(directory.main().id, service) is service
    assert directory.hours(None, service) is service and directory.hours(999, service) is service
    own = directory.hours(cusco.id, service)
    assert own.is_open(saturday) and not service.is_open(saturday)
    assert not own.is_open(dt.datetime(2026, 12, 25, 10, 0, tzinfo=LIMA))  # the service's holidays
    assert own.zone == service.zone
    directory.update(cusco.id, hours="")
    assert directory.hours(cusco.id, service) is service and directory.get(cusco.id).hours is None


# creating and changing -----------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (("Arequipa Sur", "Arequipa", "Arequipa"), "código"),
    (("a", "Arequipa", "Arequipa"), "código"),
    (("-arequipa", "Arequipa", "Arequipa"), "código"),
    (("arequipa", "   ", "Arequipa"), "nombre"),
    (("arequipa", "x" * 121, "Arequipa"), "nombre"),
    (("arequipa", "Arequipa", "Arequipa, Narnia"), "Narnia"),
    (("lima", "Otra Lima", ""), "Ya existe"),
])
def test_create_refuses_with_a_reason(engine, args, message):
    with pytest.raises(OfficeError, match=message):
        Offices(engine).create(*args)
    assert [o.slug for o in Offices(engine).all()] == ["lima"]


@pytest.mark.parametrize("hours", ["lunes 8-9", "lun-vie 16:00-08:00", "todo el día", ";", "lun-vie 08:00-16:00; " * 12])
def test_bad_hours_are_refused(engine, hours):
    with pytest.raises(OfficeError, match="[Hh]orario") as refused:
        Offices(engine).create("cusco", "Cusco", "Cusco", hours=hours)
    assert "lun-vie" in str(refused.value) or "largo" in str(refused.value)
    if "no válido" in str(refused.value):  # what is wrong, in Spanish, and a whole schedule as an example
        assert "no se entiende" in str(refused.value) or "posterior" in str(refused.value)
        assert str(refused.value).endswith("«lun-vie 08:30-13:00,14:00-16:30; sab 09:00-12:00».")


def test_create_and_update(engine):
    directory = Offices(engine)
    office = directory.create(" Arequipa ", "  Dirección Regional   de Arequipa ", "Arequipa, Moquegua", hours=" lun-vie 08:00-16:00 ")
    assert (office.slug, office.name, office.regions, office.hours) == ("arequipa", "Dirección Regional de Arequipa",
                                                                        ("arequipa", "moquegua"), "lun-vie 08:00-16:00")
    assert office.active and not office.is_main and office.region_names == ["Arequipa", "Moquegua"]
    assert office.id != directory.main().id and directory.by_slug("AREQUIPA").id == office.id
    changed = directory.update(office.id, name="DRTPE Arequipa", region_list=["arequipa"])
    assert (changed.name, changed.regions, changed.hours) == ("DRTPE Arequipa", ("arequipa",), "lun-vie 08:00-16:00")
    assert not directory.update(office.id, active=False).active
    assert directory.update(office.id, active=True).active
    with pytest.raises(OfficeError, match="no se puede desactivar"):
        directory.update(directory.main().id, active=False)
    assert directory.main().active
    with pytest.raises(OfficeError, match="Región desconocida"):
        directory.update(office.id, region_list="Atlantis")
    with pytest.raises(OfficeError, match="no existe"):
        directory.update(999, name="Nada")
    assert [o.slug for o in directory.all()] == ["lima", "arequipa"]
    assert [o.slug for o in directory.all(active_only=True)] == ["lima", "arequipa"]


def test_who_works_where(engine):
    directory = Offices(engine)
    ids = add_users(engine, "ana@example.org", "beto@example.org")
    gone = add_users(engine, "ida@example.org", active=False)["ida@example.org"]
    ana, beto = ids["ana@example.org"], ids["beto@example.org"]
    main = directory.main()
    cusco = directory.create("cusco", "Cusco", "Cusco, Puno")
    assert directory.of_user(ana) == [] and directory.queue_of(ana) == [main.id, None]  # no office: the main one's queue
    directory.set_offices(ana, [cusco.id, main.id, cusco.id])
    assert [o.slug for o in directory.of_user(ana)] == ["lima", "cusco"] and set(directory.queue_of(ana)) == {main.id, cusco.id, None}
    with pytest.raises(OfficeError, match="no existe"):
        directory.set_offices(ana, [cusco.id, 999])
    assert len(directory.of_user(ana)) == 2
    directory.add_member(cusco.id, beto)
    directory.add_member(cusco.id, gone)
    assert directory.members(cusco.id) == sorted([ana, beto, gone])
    assert directory.member_counts()[cusco.id] == 2  # the disabled account is not counted
    directory.update(cusco.id, active=False)
    assert directory.queue_of(beto) == [main.id, None]

    directory.set_members(cusco.id, [beto], among=[ana, beto])  # the page: active accounts only
    assert directory.members(cusco.id) == sorted([beto, gone]) and [o.slug for o in directory.of_user(ana)] == ["lima"]
    with pytest.raises(OfficeError, match="cuentas"):
        directory.set_members(cusco.id, [gone], among=[ana, beto])
    directory.set_members(cusco.id, [])
    assert directory.members(cusco.id) == []
    with pytest.raises(OfficeError, match="no existe"):
        directory.set_members(999, [ana])
    directory.set_offices(ana, [])
    assert directory.of_user(ana) == []


# the migration -------------------------------------------------------------------------------------

@contextmanager
def blank_database(kind, tmp_path):
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    ensure_postgres()
    name = f"infomigra_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_migration_makes_lima_the_main_office_of_every_account(kind, tmp_path):
    with blank_database(kind, tmp_path) as url:
        config = Config(str(ROOT / "alembic.ini"))
        config.set_main_option("script_location", str(ROOT / "bot" / "store" / "migrations"))
        config.set_main_option("sqlalchemy.url", url)
        command.upgrade(config, "0004")  # the desk's accounts and the handoff, before offices
        engine = get_engine(url)
        try:
            old = MetaData()
            users, tickets = (Table(name, old, autoload_with=engine) for name in ("desk_users", "handoff_tickets"))
            with engine.begin() as conn:
                conn.execute(insert(users), [{"email": f"{n}@example.org", "display_name": n, "password_hash": "x", "roles": "advisor",
                                              "active": True, "created_at": now()} for n in ("ana", "beto")])
                conn.execute(insert(tickets), [{"sender_id": "telegram:1", "channel": "telegram", "status": "waiting", "reason": "asked",
                                                "priority": 0, "tags": [], "created_at": now(), "queued_at": now()}])
            command.upgrade(config, "heads")
            with engine.connect() as conn:
                rows = conn.execute(select(offices)).mappings().all()
                members = conn.execute(select(desk_user_offices.c.office_id)).scalars().all()
                routed = conn.execute(text("SELECT office_id FROM handoff_tickets")).scalars().all()
            assert [(r["id"], r["slug"], r["regions"], r["hours"], r["is_main"], r["active"]) for r in rows] == \
                [(1, "lima", "lima callao", None, True, True)]
            assert members == [1, 1] and routed == [1]
            directory = Offices(engine)
            assert directory.main().name == "Sede central (Lima)"
            assert directory.create("cusco", "Cusco", "Cusco").id == 2  # PostgreSQL's sequence moved past the explicit id
            assert directory.route("vivo en el Callao").slug == "lima"
        finally:
            engine.dispose()
