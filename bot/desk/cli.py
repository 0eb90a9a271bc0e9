"""`infomigra desk …`: serve the desk and manage staff accounts.

Passwords are read from a prompt (twice) or, when standard input is not a terminal, from its first
line; never from the command line, where other users of the machine could see them.

Every account gets a second factor (TOTP) when it is created: the command prints its secret and
otpauth:// URI once, for the person to add to an authenticator app. `reset-totp` makes a new one
(lost phone; supervisors), `remove-totp` removes it so a non-supervisor enrols again at the next login.

`disable-user` keeps the rule of the desk's Cuentas page (bot.desk.accounts, `Accounts._change`): the last
active supervisor is not disabled; the command says so and exits with status 2.

Offices (bot/offices): `offices` lists them, `add-office` and `update-office` change them, `set-offices`
says which offices an account works in; `create-user --office SLUG` (repeatable) puts a new account in
offices (default: the main office).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys

ROLE_CHOICES = ("advisor", "supervisor", "reviewer")


def _engine(args: argparse.Namespace):  # noqa: ANN202
    from bot.store.db import get_engine

    return get_engine(args.url) if args.url else get_engine()


def _accounts(args: argparse.Namespace):  # noqa: ANN202
    from sqlalchemy import inspect

    from bot.desk.accounts import Accounts

    engine = _engine(args)
    if not inspect(engine).has_table("desk_users"):
        print("the desk's tables are missing: run `infomigra db upgrade` first", file=sys.stderr)
        raise SystemExit(2)
    return Accounts(engine)


def read_password(prompt: str = "Password: ") -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Repeat the password: ") != first:
            print("the two passwords differ", file=sys.stderr)
            raise SystemExit(1)
        return first
    line = sys.stdin.readline()
    return line[:-1] if line.endswith("\n") else line


def _print_totp(email: str, secret: str) -> None:
    from bot.desk.totp import grouped, provisioning_uri

    print("second factor (TOTP): add it to an authenticator app, then keep this secret nowhere else")
    print(f"  secret: {grouped(secret)}")
    print(f"  uri:    {provisioning_uri(secret, email)}")


def _offices(args: argparse.Namespace):  # noqa: ANN202
    from sqlalchemy import inspect

    from bot.offices.directory import Offices

    engine = _accounts(args).engine
    if not inspect(engine).has_table("offices"):
        print("the offices' tables are missing: run `infomigra db upgrade` first", file=sys.stderr)
        raise SystemExit(2)
    return Offices(engine)


def _offices_named(directory, slugs: list[str] | None) -> list | None:  # noqa: ANN001
    """The offices of these slugs (default: the main one), or None after printing which slug is unknown."""
    if not slugs:
        main = directory.main()
        return [main] if main else []
    found = []
    for slug in slugs:
        office = directory.by_slug(slug)
        if office is None:
            print(f"no office with code {slug!r} (see `infomigra desk offices`)", file=sys.stderr)
            return None
        found.append(office)
    return found


def _create_user(args: argparse.Namespace) -> int:
    from bot.desk.accounts import AccountError

    accounts = _accounts(args)
    directory = _offices(args)
    offices = _offices_named(directory, args.office)
    if offices is None:
        return 1
    try:
        user = accounts.create(args.email, args.name, read_password().rstrip("\r"), args.role, with_totp=not args.totp_at_login)
    except AccountError as exc:
        print(f"not created: {exc}", file=sys.stderr)
        return 1
    directory.set_offices(user.id, [o.id for o in offices])
    print(f"created {user.email} ({', '.join(sorted(user.roles))})")
    print(f"offices: {', '.join(o.slug for o in offices) or 'none'}")
    secret = accounts.totp_secret(user.email)
    if secret:
        _print_totp(user.email, secret)
    else:
        print("second factor: enrolled at the first login")
    return 0


def _reset_totp(args: argparse.Namespace) -> int:
    secret = _accounts(args).reset_totp(args.email)
    if secret is None:
        print(f"no account with e-mail {args.email}", file=sys.stderr)
        return 1
    print(f"new second factor for {args.email} (the old one no longer works; its sessions ended)")
    _print_totp(args.email.strip().lower(), secret)
    return 0


def _remove_totp(args: argparse.Namespace) -> int:
    from bot.desk.accounts import AccountError

    try:
        found = _accounts(args).remove_totp(args.email)
    except AccountError as exc:
        print(f"not removed: {exc}", file=sys.stderr)
        return 1
    if not found:
        print(f"no account with e-mail {args.email}", file=sys.stderr)
        return 1
    print(f"second factor of {args.email} removed: a new one is enrolled at the next login (its sessions ended)")
    return 0


def _list_users(args: argparse.Namespace) -> int:
    users = _accounts(args).all()
    if not users:
        print("no accounts yet: create one with `infomigra desk create-user`")
        return 0
    for user in users:
        last = user.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if user.last_login_at else "never"
        state = "active" if user.active else "DISABLED"
        factor = "totp" if user.totp else "no-totp"
        print(f"{user.email:40} {state:8} {factor:7} {','.join(sorted(user.roles)):28} last login: {last:20} {user.name}")
    return 0


def _set_active(active: bool):  # noqa: ANN202
    def run(args: argparse.Namespace) -> int:
        from bot.desk.accounts import AccountError

        try:
            found = _accounts(args).set_active(args.email, active)
        except AccountError as exc:  # the rules of the desk's Cuentas page (Accounts._change): the last supervisor
            print(f"not {'enabled' if active else 'disabled'}: {exc}", file=sys.stderr)
            if not active:
                print("make another account an active supervisor first (`infomigra desk create-user … --role supervisor`, "
                      "or the desk's Cuentas page)", file=sys.stderr)
            return 2
        if not found:
            print(f"no account with e-mail {args.email}", file=sys.stderr)
            return 1
        print(f"{args.email} {'enabled' if active else 'disabled (its sessions ended)'}")
        return 0

    return run


def _set_password(args: argparse.Namespace) -> int:
    from bot.desk.accounts import AccountError

    accounts = _accounts(args)
    if accounts.by_email(args.email) is None:
        print(f"no account with e-mail {args.email}", file=sys.stderr)
        return 1
    try:
        accounts.set_password(args.email, read_password("New password: ").rstrip("\r"))
    except AccountError as exc:
        print(f"not changed: {exc}", file=sys.stderr)
        return 1
    print(f"password of {args.email} changed (its sessions ended)")
    return 0


def _describe_office(office, members: int) -> str:  # noqa: ANN001
    flags = " ".join(flag for flag, on in (("main", office.is_main), ("INACTIVE", not office.active)) if on) or "active"
    regions = ", ".join(office.region_names) or "-"
    hours = office.hours or "the service's"
    return f"{office.slug:20} {flags:8} {members:3} accounts  regions: {regions}  hours: {hours}  {office.name}"


def _list_offices(args: argparse.Namespace) -> int:
    directory = _offices(args)
    counts = directory.member_counts()
    offices = directory.all()
    if not offices:
        print("no offices: `infomigra db upgrade` creates the main one")
        return 0
    for office in offices:
        print(_describe_office(office, counts.get(office.id, 0)))
    return 0


def _add_office(args: argparse.Namespace) -> int:
    from bot.offices.directory import OfficeError

    directory = _offices(args)
    try:
        office = directory.create(args.slug, args.name, args.regions or "", args.hours)
    except OfficeError as exc:
        print(f"not created: {exc}", file=sys.stderr)
        return 1
    print(f"created office {_describe_office(office, 0)}")
    print(f"add its accounts with `infomigra desk set-offices --email … --office {office.slug}`")
    return 0


def _update_office(args: argparse.Namespace) -> int:
    from bot.offices.directory import OfficeError

    directory = _offices(args)
    office = directory.by_slug(args.slug)
    if office is None:
        print(f"no office with code {args.slug!r} (see `infomigra desk offices`)", file=sys.stderr)
        return 1
    try:
        office = directory.update(office.id, name=args.name, region_list=args.regions, hours=args.hours, active=args.active)
    except OfficeError as exc:
        print(f"not changed: {exc}", file=sys.stderr)
        return 1
    print(f"updated office {_describe_office(office, directory.member_counts().get(office.id, 0))}")
    return 0


def _set_offices(args: argparse.Namespace) -> int:
    user = _accounts(args).by_email(args.email)
    if user is None:
        print(f"no account with e-mail {args.email}", file=sys.stderr)
        return 1
    directory = _offices(args)
    offices = _offices_named(directory, args.office)
    if offices is None:
        return 1
    directory.set_offices(user.id, [o.id for o in offices])
    print(f"{user.email} works in: {', '.join(o.slug for o in offices)}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.desk.app import create_app
    from bot.desk.settings import DeskSettings, SettingsError

    try:
        settings = DeskSettings.from_env()
    except SettingsError as exc:
        print(f"desk: {exc}", file=sys.stderr)
        return 2
    _accounts(args)  # the tables exist
    # uvicorn configures only its own loggers: the desk's (the worker, the e-mail door, the supervisors' changes
    # to offices and accounts, an audit trail) go to standard error too, at the same level.
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    forwarded = args.forwarded_allow_ips
    # ws="none": the desk uses no WebSockets (live updates are plain HTTP), and the websockets 10 that
    # rasa-sdk's Sanic pins is too old for uvicorn's WebSocket protocol anyway.
    uvicorn.run(create_app(_engine(args), settings), host=args.host, port=args.port, proxy_headers=bool(forwarded),
                forwarded_allow_ips=forwarded or None, server_header=False, ws="none", log_level=args.log_level)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `infomigra desk …` to the main parser."""
    import os

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="database URL (default: DATABASE_URL or var/infomigra.db)")
    desk = sub.add_parser("desk", help="the advisor desk (web application and staff accounts)")
    commands = desk.add_subparsers(dest="desk_command", required=True)

    serve = commands.add_parser("serve", parents=[common], help="start the desk's web server")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8010, help="port (8010)")
    serve.add_argument("--forwarded-allow-ips", default=os.environ.get("DESK_FORWARDED_ALLOW_IPS", ""),
                       help="reverse proxies whose X-Forwarded-For/-Proto to trust (default: none; DESK_FORWARDED_ALLOW_IPS)")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve.set_defaults(func=_serve)

    create = commands.add_parser("create-user", parents=[common],
                                 help="create a staff account (password from a prompt or standard input)")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True, help="the name shown in the desk")
    create.add_argument("--role", action="append", required=True, choices=ROLE_CHOICES, help="repeat for several roles")
    create.add_argument("--totp-at-login", action="store_true",
                        help="no second factor now: the person enrols one at the first login (not for supervisors)")
    create.add_argument("--office", action="append", metavar="SLUG",
                        help="an office the account works in; repeat for several (default: the main office)")
    create.set_defaults(func=_create_user)

    listing = commands.add_parser("list-users", parents=[common], help="list staff accounts")
    listing.set_defaults(func=_list_users)

    for name, active, text in (("disable-user", False, "disable an account and end its sessions"),
                               ("enable-user", True, "enable a disabled account")):
        command = commands.add_parser(name, parents=[common], help=text)
        command.add_argument("--email", required=True)
        command.set_defaults(func=_set_active(active))

    password = commands.add_parser("set-password", parents=[common],
                                   help="set a new password (prompt or standard input) and end the account's sessions")
    password.add_argument("--email", required=True)
    password.set_defaults(func=_set_password)

    reset = commands.add_parser("reset-totp", parents=[common],
                                help="give an account a new second factor (prints it) and end its sessions")
    reset.add_argument("--email", required=True)
    reset.set_defaults(func=_reset_totp)

    remove = commands.add_parser("remove-totp", parents=[common],
                                 help="remove an account's second factor: it enrols a new one at the next login (not supervisors)")
    remove.add_argument("--email", required=True)
    remove.set_defaults(func=_remove_totp)

    offices = commands.add_parser("offices", parents=[common], help="list the offices (regions, hours, accounts)")
    offices.set_defaults(func=_list_offices)

    hours_help = "office hours as in HANDOFF_OFFICE_HOURS, e.g. 'lun-vie 08:00-16:00; sab 09:00-12:00'"
    add = commands.add_parser("add-office", parents=[common], help="add a regional office")
    add.add_argument("--slug", required=True, help="its code: lower-case letters, digits and hyphens (arequipa)")
    add.add_argument("--name", required=True, help="its name as shown in the desk")
    add.add_argument("--regions", default="", help="the regions it serves, comma-separated: 'Arequipa, Moquegua'")
    add.add_argument("--hours", help=hours_help + " (default: the service's)")
    add.set_defaults(func=_add_office)

    change = commands.add_parser("update-office", parents=[common], help="change an office (what is not given stays)")
    change.add_argument("--slug", required=True, help="the office's code")
    change.add_argument("--name")
    change.add_argument("--regions", help="the regions it serves, comma-separated (replaces the list)")
    change.add_argument("--hours", help=hours_help + "; '' for the service's")
    state = change.add_mutually_exclusive_group()
    state.add_argument("--inactive", dest="active", action="store_false", default=None,
                       help="no new conversations (its regions go to the main office)")
    state.add_argument("--active", dest="active", action="store_true", default=None)
    change.set_defaults(func=_update_office)

    member = commands.add_parser("set-offices", parents=[common], help="the offices an account works in (replaces its list)")
    member.add_argument("--email", required=True)
    member.add_argument("--office", action="append", required=True, metavar="SLUG", help="repeat for several")
    member.set_defaults(func=_set_offices)
