"""The monthly report of the service (directive 5.4.6): `infomigra report --month YYYY-MM`.

- `tracker`: Rasa's events from its SQL tracker store (SQLite or PostgreSQL), read only;
- `conversations`: events → conversations (channel, day, lines, countries, how they ended);
- `gaps`: unanswered questions, scrubbed and grouped by similarity;
- `handoff`: tickets, waits, time to close and ratings, per advisor;
- `build`: everything above plus ratings, suggestions and articles due for review → a Report;
- `model`: the Report, and how cells are shown (counts under 5 as "<5");
- `charts`, `html`, `output`: matplotlib images, the self-contained HTML file, the CSV files;
- `cli`: the command.
"""
