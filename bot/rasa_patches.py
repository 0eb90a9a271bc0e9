"""Performance patches to Rasa 3.6.21 internals, applied when our channels load in the Rasa server.

Each patch keeps Rasa's behaviour and only removes waste measured with py-spy on this project:

- `RemoteAction._validate_action_result` checks every action-server response with
  `jsonschema.validate`, which re-checks the schema itself and builds a new validator on every
  call: about 40% of the Rasa server's CPU per message here. The patched method validates the same
  response against the same schema with one validator built once, and raises the same error
  (jsonschema's best match, with Rasa's explanation appended).
- `Event.resolve_by_type` finds an event's class from its name (`"user"`, `"slot"`…) by walking
  every subclass of `Event` again for each event read: from the tracker store and from every
  action-server response, about 3% of the server's time under load. The patched lookup remembers
  the class found for a name; names it has not found yet (an event class imported later, an unknown
  name) still go through Rasa's walk, with its default and its error.
- `RulePolicy._get_possible_keys` filters every rule against every turn of the conversation, from
  the latest back to the first, although a rule shorter than the turns already checked always
  stays (`_is_rule_applicable` is true past a rule's length) and an empty set stays empty: about
  9% of the server's time under load, growing with the conversation. The patched method stops at
  the longest rule still possible or when none is left, with Rasa's own `_is_rule_applicable`.
"""

from __future__ import annotations

from typing import Any

_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    try:
        from jsonschema import exceptions
        from jsonschema.validators import validator_for
        from rasa.core.actions import action as rasa_action
    except ImportError:  # not inside the Rasa venv (e.g. our services' tests): nothing to patch
        return

    remote = rasa_action.RemoteAction
    schema = remote.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        error = exceptions.best_match(validator.iter_errors(result))
        if error is not None:
            error.message += (
                ". Failed to validate Action server response from API, make sure your response from the "
                f"Action endpoint is valid. For more information about the format visit "
                f"{rasa_action.DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    remote._validate_action_result = _validate_action_result
    _remember_event_classes()
    _stop_rule_search_early()
    _applied = True


def _remember_event_classes() -> None:
    from rasa.shared.core.events import Event

    walk = Event.resolve_by_type
    found: dict[str, Any] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        cls = found.get(type_name)
        if cls is None:
            cls = walk(type_name, default)
            if cls is not None and cls is not default:
                found[type_name] = cls
        return cls

    Event.resolve_by_type = staticmethod(resolve_by_type)


def _stop_rule_search_early() -> None:
    from rasa.core.policies.rule_policy import RulePolicy

    def _get_possible_keys(self: Any, lookup: dict[str, str], states: list[dict]) -> set[str]:
        possible_keys = set(lookup.keys())
        for turn, state in enumerate(reversed(states)):
            if not possible_keys or turn >= max(len(self._rule_key_to_state(key)) for key in possible_keys):
                break  # from here on every remaining rule is applicable: nothing more to filter
            possible_keys = {key for key in possible_keys if self._is_rule_applicable(key, turn, state)}
        return possible_keys

    RulePolicy._get_possible_keys = _get_possible_keys
