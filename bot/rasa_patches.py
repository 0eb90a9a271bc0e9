"""Performance patches to Rasa 3.6.21 internals, applied when our channels load in the Rasa server.

Each patch keeps Rasa's behaviour and only removes waste measured with py-spy on this project:

- `RemoteAction._validate_action_result` checks every action-server response with
  `jsonschema.validate`, which re-checks the schema itself and builds a new validator on every
  call: about 40% of the Rasa server's CPU per message here. The patched method validates the same
  response against the same schema with one validator built once, and raises the same error
  (jsonschema's best match, with Rasa's explanation appended).
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
    _applied = True
