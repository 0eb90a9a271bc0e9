"""The in-person window ("Ventanilla", directive 5.5): walk-in consultations recorded by the advisor at
the window, the articles handed over on paper or by e-mail, and nothing more about the person than
the contact they agree to leave (schema.py, store.py, mailing.py; the desk's pages: bot/desk/window.py)."""
