""""La voz del migrante": the store of suggestions, complaints and acknowledgements from migrants.

For the form's custom action (validation messages are Spanish, ready to be said):

    from bot.suggestions import InvalidInput, submit, validate_contact, validate_text
    reference, created = submit(engine, client_key=..., channel="whatsapp", sender_id=..., kind="queja",
                                country="espana", city="Madrid", topic="exterior", text=..., contact=None,
                                consent_at=when_they_said_yes)

Review (desk), exports and counts: `service.py` and `export.py`; the CLI: `infomigra suggestions`.
"""

from bot.suggestions.export import export, export_csv, export_json, monthly_counts
from bot.suggestions.reference import normalize_reference
from bot.suggestions.schema import KINDS, STATUSES, TEXT_MAX, suggestion_events, suggestions
from bot.suggestions.scrub import scrub
from bot.suggestions.service import (
    TRANSITIONS,
    Page,
    PurgeResult,
    Suggestion,
    SuggestionNotFound,
    TransitionError,
    add_note,
    add_tag,
    allowed_transitions,
    change_status,
    count_by_sender,
    erase_personal_data,
    get,
    history,
    list_suggestions,
    purge,
    remove_tag,
    submit,
)
from bot.suggestions.validation import (
    InvalidInput,
    contact_kind,
    validate_city,
    validate_contact,
    validate_country,
    validate_kind,
    validate_text,
    validate_topic,
)

__all__ = [
    "KINDS", "STATUSES", "TEXT_MAX", "TRANSITIONS", "InvalidInput", "Page", "PurgeResult", "Suggestion",
    "SuggestionNotFound", "TransitionError", "add_note", "add_tag", "allowed_transitions", "change_status",
    "contact_kind", "count_by_sender", "erase_personal_data", "export", "export_csv", "export_json", "get", "history",
    "list_suggestions", "monthly_counts", "normalize_reference", "purge", "remove_tag", "scrub", "submit",
    "suggestion_events", "suggestions", "validate_city", "validate_contact", "validate_country", "validate_kind",
    "validate_text", "validate_topic",
]
