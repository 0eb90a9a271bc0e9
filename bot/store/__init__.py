"""Our own tables (SQLAlchemy Core, valid on SQLAlchemy 1.4 in the Rasa venv and 2.x in ours).

SQLite by default (`var/infomigra.db`), PostgreSQL with `DATABASE_URL`. The schema is created and
upgraded by Alembic (`infomigra db upgrade`, migrations in `bot/store/migrations/`).
"""
