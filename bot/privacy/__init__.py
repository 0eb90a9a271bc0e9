"""Personal data (Ley 29733): one erasure of everything about a person (`erase`), and the daily
retention job (`retention`)."""
