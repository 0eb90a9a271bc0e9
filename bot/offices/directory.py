"""The offices, their advisors and where a conversation goes.

`Offices(engine)`:
- `all()`, `get(id)`, `by_slug(slug)`, `main()`; `create(...)`, `update(...)` (supervisors, the CLI);
- `members(office_id)`, `member_counts()`, `of_user(user_id)`, `set_offices(user_id, office_ids)`,
  `set_members(office_id, user_ids)`;
- `route(text)`: the office for a conversation whose person wrote `text`: the active office serving the
  first region named, else the main office (None when the service has no offices at all);
- `hours(office_id, default)`: the office's own hours, else the service's (HANDOFF_OFFICE_HOURS).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.desk.schema import desk_users
from bot.offices import regions
from bot.offices.hours import HoursError, OfficeHours
from bot.offices.schema import desk_user_offices, offices
from bot.store.clock import now

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
MAX_NAME = 120
MAX_HOURS = 200  # the column's size
HOURS_EXAMPLE = "lun-vie 08:30-13:00,14:00-16:30; sab 09:00-12:00"


class OfficeError(ValueError):
    """Input an office cannot take (the message says why, in Spanish)."""


@dataclass(frozen=True)
class Office:
    id: int
    slug: str
    name: str
    regions: tuple[str, ...]
    hours: str | None
    is_main: bool
    active: bool

    @property
    def region_names(self) -> list[str]:
        return [regions.name(r) for r in self.regions]

    def public(self) -> dict:
        return {"id": self.id, "slug": self.slug, "name": self.name, "regions": list(self.regions),
                "region_names": self.region_names, "hours": self.hours, "is_main": self.is_main, "active": self.active}


def _office(row) -> Office:  # noqa: ANN001
    return Office(row["id"], row["slug"], row["name"], tuple((row["regions"] or "").split()), row["hours"], bool(row["is_main"]),
                  bool(row["active"]))


def check_hours(value: str | None) -> str | None:
    """The hours as given (None: the service's), or OfficeError with a Spanish message and an example."""
    value = " ".join((value or "").split())
    if not value:
        return None
    how = f"escríbalo como «{HOURS_EXAMPLE}» (días lun mar mie jue vie sab dom, horas como 08:30)"
    if len(value) > MAX_HOURS:
        raise OfficeError(f"Horario demasiado largo (hasta {MAX_HOURS} caracteres).")
    try:
        parsed = OfficeHours.parse(value)
    except HoursError as exc:  # what is wrong, in Spanish, then a whole schedule as an example
        raise OfficeError(f"Horario no válido. {exc}. Un horario completo se escribe así: «{HOURS_EXAMPLE}».") from None
    if not any(parsed.week):
        raise OfficeError(f"Horario sin ninguna hora de atención: {how}.")
    return value


def _hours_of(office: Office | None, default: OfficeHours) -> OfficeHours:
    """The office's own hours, else the service's; the service's holidays and time zone either way."""
    if office is None or not office.hours:
        return default
    return dataclasses.replace(OfficeHours.parse(office.hours), holidays=default.holidays, zone=default.zone)


class Offices:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- reading ---------------------------------------------------------------------------------
    def all(self, active_only: bool = False) -> list[Office]:
        query = select(offices).order_by(offices.c.is_main.desc(), offices.c.name)
        if active_only:
            query = query.where(offices.c.active.is_(True))
        with self.engine.connect() as conn:
            return [_office(r) for r in conn.execute(query).mappings()]

    def get(self, office_id: int | None) -> Office | None:
        if office_id is None:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(offices).where(offices.c.id == office_id)).mappings().first()
        return _office(row) if row else None

    def by_slug(self, slug: str) -> Office | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(offices).where(offices.c.slug == (slug or "").strip().lower())).mappings().first()
        return _office(row) if row else None

    def main(self) -> Office | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(offices).where(offices.c.is_main.is_(True)).order_by(offices.c.id)).mappings().first()
        return _office(row) if row else None

    def of_user(self, user_id: int) -> list[Office]:
        query = (select(offices).join(desk_user_offices, desk_user_offices.c.office_id == offices.c.id)
                 .where(desk_user_offices.c.user_id == user_id).order_by(offices.c.is_main.desc(), offices.c.name))
        with self.engine.connect() as conn:
            return [_office(r) for r in conn.execute(query).mappings()]

    def members(self, office_id: int) -> list[int]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(desk_user_offices.c.user_id).where(desk_user_offices.c.office_id == office_id)
                                     .order_by(desk_user_offices.c.user_id)).scalars())

    def queue_of(self, user_id: int) -> list[int | None] | None:
        """The offices whose queue an advisor works: theirs, else the main office's, with None (tickets routed to no
        office) where the main office is one of them; None: every queue (the service has no offices)."""
        mine: list[int | None] = [o.id for o in self.of_user(user_id) if o.active]
        main = self.main()
        if not mine:
            if main is None:
                return None
            mine = [main.id]
        if main is not None and main.id in mine:
            mine.append(None)
        return mine

    # --- routing ---------------------------------------------------------------------------------
    def route(self, text: str) -> Office | None:
        region = regions.find(text)
        if region:
            serving = [o for o in self.all(active_only=True) if region in o.regions]
            if serving:
                return next((o for o in serving if not o.is_main), serving[0])  # a regional office before Lima's
        return self.main()

    def hours(self, office_id: int | None, default: OfficeHours) -> OfficeHours:
        return _hours_of(self.get(office_id), default)

    def all_hours(self, default: OfficeHours) -> dict[int, OfficeHours]:
        """Every office's hours in one read (the handoff worker's round)."""
        return {office.id: _hours_of(office, default) for office in self.all()}

    # --- changing --------------------------------------------------------------------------------
    def create(self, slug: str, name: str, region_list: Iterable[str] | str = (), hours: str | None = None,
               is_main: bool = False, at: dt.datetime | None = None) -> Office:
        values = self._values(slug=slug, name=name, region_list=region_list, hours=hours)
        try:
            with self.engine.begin() as conn:
                if is_main:
                    conn.execute(update(offices).values(is_main=False))
                office_id = conn.execute(insert(offices).values(**values, is_main=is_main, active=True,
                                                                created_at=at or now())).inserted_primary_key[0]
        except IntegrityError:
            raise OfficeError(f"Ya existe una oficina con el código {values['slug']!r}.") from None
        return self.get(office_id)  # type: ignore[return-value]

    def update(self, office_id: int, *, name: str | None = None, region_list: Iterable[str] | str | None = None,
               hours: str | None = None, active: bool | None = None) -> Office:
        office = self.get(office_id)
        if office is None:
            raise OfficeError("Esa oficina no existe.")
        values = self._values(name=name if name is not None else office.name,
                              region_list=region_list if region_list is not None else office.regions,
                              hours=hours if hours is not None else office.hours)
        if active is not None:
            if office.is_main and not active:
                raise OfficeError("La oficina principal no se puede desactivar: atiende lo que ninguna otra atiende.")
            values["active"] = active
        with self.engine.begin() as conn:
            conn.execute(update(offices).where(offices.c.id == office_id).values(**values))
        return self.get(office_id)  # type: ignore[return-value]

    def set_offices(self, user_id: int, office_ids: Iterable[int]) -> None:
        wanted = sorted(set(office_ids))
        known = {o.id for o in self.all()}
        if any(i not in known for i in wanted):
            raise OfficeError("Alguna de esas oficinas no existe.")
        with self.engine.begin() as conn:
            conn.execute(delete(desk_user_offices).where(desk_user_offices.c.user_id == user_id))
            if wanted:
                conn.execute(insert(desk_user_offices), [{"user_id": user_id, "office_id": i} for i in wanted])

    def set_members(self, office_id: int, user_ids: Iterable[int], among: Iterable[int] | None = None) -> None:
        """The office's members become `user_ids`; with `among`, only those accounts are added or removed
        (the page lists the active advisors and supervisors: a disabled account keeps its offices)."""
        if self.get(office_id) is None:
            raise OfficeError("Esa oficina no existe.")
        wanted = set(user_ids)
        scope = None if among is None else set(among)
        if scope is not None and not wanted <= scope:
            raise OfficeError("Alguna de esas cuentas no existe o está desactivada.")
        with self.engine.begin() as conn:
            query = delete(desk_user_offices).where(desk_user_offices.c.office_id == office_id)
            if scope is not None:
                query = query.where(desk_user_offices.c.user_id.in_(sorted(scope)))
            conn.execute(query)
            if wanted:
                conn.execute(insert(desk_user_offices), [{"user_id": u, "office_id": office_id} for u in sorted(wanted)])

    def member_counts(self) -> dict[int, int]:
        """Active accounts per office id."""
        query = (select(desk_user_offices.c.office_id, func.count())
                 .join(desk_users, desk_users.c.id == desk_user_offices.c.user_id)
                 .where(desk_users.c.active.is_(True)).group_by(desk_user_offices.c.office_id))
        with self.engine.connect() as conn:
            return {office_id: count for office_id, count in conn.execute(query)}

    def set_active_offices(self, user_id: int, office_ids: Iterable[int | None]) -> list[int]:
        """An account's active offices as a form chose them (None: an id that could not be read); its inactive
        offices, not offered, stay. The offices it now has."""
        chosen = list(office_ids)
        active = {o.id for o in self.all(active_only=True)}
        if any(i is None or i not in active for i in chosen):
            raise OfficeError("Alguna de esas oficinas no existe o está inactiva.")
        kept = [o.id for o in self.of_user(user_id) if not o.active]
        wanted = sorted({*(i for i in chosen if i is not None), *kept})
        self.set_offices(user_id, wanted)
        return wanted

    def add_member(self, office_id: int, user_id: int) -> None:
        current = [o.id for o in self.of_user(user_id)]
        self.set_offices(user_id, [*current, office_id])

    @staticmethod
    def _values(*, name: str, region_list: Iterable[str] | str, hours: str | None, slug: str | None = None) -> dict:
        values: dict = {}
        if slug is not None:
            slug = (slug or "").strip().lower()
            if not SLUG.match(slug):
                raise OfficeError("El código de la oficina: letras minúsculas, números y guiones (2 a 40).")
            values["slug"] = slug
        name = " ".join((name or "").split())
        if not name or len(name) > MAX_NAME:
            raise OfficeError(f"Escriba el nombre de la oficina (hasta {MAX_NAME} caracteres).")
        try:
            found = regions.normalize(region_list)
        except ValueError as exc:
            raise OfficeError(f"Región desconocida: {str(exc).split(': ', 1)[-1]}.") from None
        values.update(name=name, regions=" ".join(found), hours=check_hours(hours))
        return values
