"""The advisor desk: a web application in Spanish for the service's staff (advisors, supervisors,
reviewers), served by `infomigra desk serve`.

Modules: `schema` (tables), `passwords` (scrypt hashing), `accounts`, `sessions`, `throttle` (login
attempts), `access` (login, roles and CSRF on every route), `app` (the Starlette application and
its features), `login` and `home` (the first pages), `cli` (`infomigra desk …`).
"""
