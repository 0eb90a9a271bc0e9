"""The advisor desk: a web application in Spanish for the service's staff (advisors, supervisors,
reviewers), served by `infomigra desk serve`.

Modules: `schema` (tables), `passwords` (scrypt hashing), `accounts`, `totp` (the second factor's
codes), `challenges` (logins waiting for their code), `sessions`, `throttle` (failed logins per address
and account), `access` (login, roles, CSRF and cookie security on every route), `app` (the Starlette application and
its features), `login` and `home` (the first pages), `cli` (`infomigra desk …`).
"""
