"""Performance patches to Rasa 3.6.21 internals, applied in the Rasa process by bot/rasa/startup.py (for
`rasa run`, `shell` and `test` through `python -m bot.rasa.server`; and when our channels load). Another
Rasa version is refused (`RASA_VERSION`): each patch replaces a method whose code it was checked against.

Each patch keeps what Rasa computes and answers, and removes a cost measured on this project (with
py-spy, gc callbacks, or per message type under load):

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
  the longest rule still possible or when none is left, with Rasa's own `_is_rule_applicable`. At
  the latest turn, where all 224 rules of this assistant were checked for each prediction (about 8%
  of the server's time), it checks only those whose latest state asks for the conversation's
  previous action and intent, or for none (an index built once per rule set); the others cannot
  match (`_does_rule_match_state` requires equal values), so the result is the same.
- `RasaModel._rasa_predict` (DIET's inference, once per message) calls its `tf.function` with the
  batch as a nested list, and TensorFlow 2.12 spends more time checking and converting that
  structure than running the graph: about 12% of the server's time under load. Once Rasa has
  built the function (first call, unchanged), the patched method converts the arrays to tensors of
  the signature's types (with the function `tf.convert_to_tensor` ends in) and runs the same
  concrete graph directly; anything unexpected (another TensorFlow, a batch that does not fit the
  signature) goes through Rasa's path.
- `MessageProcessor.handle_message` runs each message in turns, oldest first (`bot/rasa/oldest_first.py`):
  under load a message waited behind every newer one at each call to the action server, so the
  answers with the most actions came last (p95 at 20 conversations 520 ms, now 320 ms, with the same
  throughput). Each conversation is still handled one message at a time under Rasa's lock; only the
  order in which the server's one event loop serves different conversations changes.
- `Features._combine_sparse_features` stacks the featurizers' COO matrices with scipy's `bmat`
  (an object array and three COO constructions for two blocks): about 7% of the server's time.
  The patched method concatenates the two blocks' entries and shifts the right one's columns, which
  is what `bmat` computes; anything but two non-empty COO matrices goes through Rasa's path.
- `model_data_utils._create_fake_features` deep-copies a feature matrix only to replace it with an
  empty one (about 3%); the patched function makes the empty `Features` directly, with the same
  type, attribute, origin and cached fingerprint.
- `DaskGraphRunner.run` runs the NLU and policy graphs (a dozen nodes, each message several times)
  through dask's scheduler, whose own bookkeeping (ordering, task states) was about 9% of the
  server's time, and formats a debug message with all its inputs even when debug is off. The
  patched method computes each target from the nodes it needs, each node once, as dask would
  (every node is called with its needs' outputs, which `GraphNode` matches by name); a graph with
  any other kind of task goes through dask.
- `DialogueStateTracker.applied_events`, `.past_states` and `.copy`, and the prediction states of
  `MaxHistoryTrackerFeaturizer` (MemoizationPolicy's, RulePolicy's): a message replayed every event of
  its session several times (the states before each action for each policy, the applied events, a
  copy of the tracker for each action run), so in one session of 600 messages a message cost 16 times
  the first ones (issue 15). The states and applied events are now carried forward from one message
  to the next (`bot/rasa/states.py`, which also says when it computes from scratch), and a copy is made
  from the tracker's state instead of a replay. The featurizer asks only for the states it keeps: the
  last `max_history` (5) for memoization; for the RulePolicy (no `max_history`), more states than its
  longest rule and than any key of its `rules_not_in_stories`: its rule search never looks further
  back (see `_is_rule_applicable`), and the key it makes of the states when no rule applies can only
  be found in `rules_not_in_stories` (which makes an answer's turn hidden) when it is that short. Only
  the states in its debug log are shorter. Trackers of other classes (training's) keep Rasa's path.
- `RemoteAction._action_call_format` and `EndpointConfig.request`: every call to the action server sent
  the tracker with every event of the session, and Rasa turned each event into a dictionary and the
  whole body into JSON again at every call: at message 900 of one session, 45% of the server's time,
  and most of the action server's, which received and parsed about 5 MB per call. The action server
  now receives the events its actions read (`bot/rasa/action_events.py`: the session's start and the last
  40 person messages' events; the slots, latest message and active loop as before), and each event's
  JSON is made once (kept on the event with the `metadata` it was made with: the one field Rasa
  replaces on an event, when a tracker with a model id takes it) and the body is joined from those
  pieces.
- `rasa.core.run.load_agent_on_start`: once the model is loaded, everything alive is frozen out of
  Python's garbage collections (`gc.freeze()`). A full collection walked the whole heap (about
  900 MB, most of it the model and TensorFlow) and stopped every conversation for up to 0.36 s;
  p99 at 20 conversations went from about 500 to about 320 ms.
"""

from __future__ import annotations

from typing import Any

_applied = False
RASA_VERSION = "3.6.21"  # the Rasa whose code these patches were written against and checked with


class WrongRasaVersion(RuntimeError):
    pass


def check_version(version: str) -> None:
    if version != RASA_VERSION:
        raise WrongRasaVersion(f"bot/rasa/patches.py replaces internals of Rasa {RASA_VERSION} and this is Rasa "
                               f"{version}: install requirements/rasa.txt (make install), or check each patch "
                               "against the new Rasa's code before changing RASA_VERSION")


def apply() -> None:
    global _applied
    if _applied:
        return
    try:
        import rasa
        from jsonschema import exceptions
        from jsonschema.validators import validator_for
        from rasa.core.actions import action as rasa_action
    except ImportError:  # not inside the Rasa venv (e.g. our services' tests): nothing to patch
        return
    check_version(rasa.__version__)

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
    _call_prediction_graph_directly()
    _handle_messages_oldest_first()
    _stack_sparse_features_directly()
    _make_empty_features_without_copying()
    _freeze_the_loaded_model()
    _run_graphs_in_order_without_dask()
    _carry_states_forward()
    _send_events_encoded_once()
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
    from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET, USER
    from rasa.shared.nlu.constants import ACTION_NAME, INTENT

    any_value = object()  # a rule that does not constrain this feature of the latest state
    indexes: dict[int, tuple[dict, int, dict]] = {}  # id(lookup) → (lookup, its size, rule keys by latest state)

    def required(value: Any) -> Any:
        return value if isinstance(value, str) and value and value != SHOULD_NOT_BE_SET else any_value

    def rule_key(rule_state: dict) -> tuple[Any, Any]:
        """The previous action and intent a conversation's latest state must have for Rasa's
        `_is_rule_applicable` to hold with this latest rule state (`any_value`: anything may)."""
        previous = rule_state.get(PREVIOUS_ACTION)
        if not previous:  # a conversation start rule: it matches a start state whatever the intent
            return any_value, any_value
        return required(previous.get(ACTION_NAME)), required((rule_state.get(USER) or {}).get(INTENT))

    def first_turn_candidates(self: Any, lookup: dict[str, str], state: dict) -> list[str]:
        index = indexes.get(id(lookup))
        if index is None or index[0] is not lookup or index[1] != len(lookup):
            by_state: dict[tuple[Any, Any], list[str]] = {}
            for key in lookup:
                by_state.setdefault(rule_key(self._rule_key_to_state(key)[-1]), []).append(key)
            index = indexes[id(lookup)] = (lookup, len(lookup), by_state)
        action = (state.get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)
        intent = (state.get(USER) or {}).get(INTENT)
        by_state = index[2]
        return [key for wanted in {(action, intent), (action, any_value), (any_value, intent), (any_value, any_value)}
                for key in by_state.get(wanted, ())]

    def _get_possible_keys(self: Any, lookup: dict[str, str], states: list[dict]) -> set[str]:
        if not states:
            return set(lookup.keys())
        # The latest turn: only the rules indexed under its action and intent, then Rasa's check.
        possible_keys = {key for key in first_turn_candidates(self, lookup, states[-1])
                         if self._is_rule_applicable(key, 0, states[-1])}
        for turn, state in enumerate(reversed(states[:-1]), start=1):
            # Past the longest rule left every remaining rule is applicable.
            if not possible_keys or turn >= max(len(self._rule_key_to_state(k)) for k in possible_keys):
                break
            possible_keys = {key for key in possible_keys if self._is_rule_applicable(key, turn, state)}
        return possible_keys

    RulePolicy._get_possible_keys = _get_possible_keys


def _call_prediction_graph_directly() -> None:
    import tensorflow as tf
    from keras.utils import tf_utils
    from rasa.shared.constants import DIAGNOSTIC_DATA
    from rasa.utils.tensorflow.models import RasaModel
    from tensorflow.python.eager import context
    from tensorflow.python.framework.constant_op import convert_to_eager_tensor

    if tf.__version__ != "2.12.0":  # the direct call below uses TensorFlow 2.12's ConcreteFunction._call_flat
        return
    rasa_predict = RasaModel._rasa_predict
    graphs: dict[int, Any] = {}  # id(tf.function) → (that function, its concrete function, its input specs)

    def _rasa_predict(self: Any, batch_in: Any) -> Any:
        function = getattr(self, "_tf_predict_step", None)
        if function is None or self._run_eagerly or not self.prepared_for_prediction:
            return rasa_predict(self, batch_in)  # Rasa builds the function on the first call
        graph = graphs.get(id(function))
        if graph is None or graph[0] is not function:
            concrete = function.get_concrete_function()
            graph = graphs[id(function)] = (function, concrete, list(concrete.structured_input_signature[0][0]))
        _, concrete, specs = graph
        if len(batch_in) != len(specs) or any(len(array.shape) != spec.shape.rank
                                              for array, spec in zip(batch_in, specs, strict=True)):
            return rasa_predict(self, batch_in)
        self._training = False
        # what `tf.convert_to_tensor` ends in for an array, without its five layers of dispatch
        eager = context.context()
        tensors = [convert_to_eager_tensor(array, eager, spec.dtype) for array, spec in zip(batch_in, specs, strict=True)]
        outputs = tf_utils.sync_to_numpy_or_python_type(concrete._call_flat(tensors, concrete.captured_inputs))
        if DIAGNOSTIC_DATA in outputs:
            outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
        return outputs

    RasaModel._rasa_predict = _rasa_predict


def _stack_sparse_features_directly() -> None:
    import numpy as np
    import scipy
    from rasa.shared.nlu.training_data.features import Features
    from scipy.sparse import coo_matrix
    from scipy.sparse._sputils import upcast

    if scipy.__version__ != "1.10.1":  # the COO stacking below is that of scipy 1.10's `bmat`
        return
    combine_sparse_features = Features._combine_sparse_features

    def _combine_sparse_features(self: Any, additional_features: Any) -> None:
        left, right = self.features, additional_features.features
        if type(left) is not coo_matrix or type(right) is not coo_matrix or left.shape[0] != right.shape[0] \
                or 0 in left.shape or 0 in right.shape:
            return combine_sparse_features(self, additional_features)  # Rasa's checks and `hstack`
        # `bmat`'s result: the blocks' entries one block after the other, the right one's columns shifted
        # (the constructor casts the indices to the index type `bmat` picks, from the shape)
        data = np.concatenate((left.data, right.data)).astype(upcast(left.dtype, right.dtype), copy=False)
        row = np.concatenate((left.row, right.row))
        col = np.concatenate((left.col, right.col + left.shape[1]))
        self.features = coo_matrix((data, (row, col)), shape=(left.shape[0], left.shape[1] + right.shape[1]))
        self._cached_fingerprint = None

    Features._combine_sparse_features = _combine_sparse_features


def _make_empty_features_without_copying() -> None:
    import copy

    import numpy as np
    import scipy.sparse
    from rasa.shared.nlu.training_data.features import Features
    from rasa.utils.tensorflow import model_data_utils

    def _create_fake_features(all_features: list) -> list:
        example_features = next(iter([list_of_features for list_of_list_of_features in all_features
                                      for list_of_features in list_of_list_of_features if list_of_features is not None]))
        fake_features = []
        for features in example_features:
            if features.is_dense():
                empty: Any = np.zeros((0, features.features.shape[-1]), features.features.dtype)
            else:
                empty = scipy.sparse.coo_matrix((0, features.features.shape[-1]), features.features.dtype)
            fake = Features(empty, features.type, features.attribute, copy.deepcopy(features.origin))
            fake._cached_fingerprint = features._cached_fingerprint  # as Rasa's deep copy leaves it
            fake_features.append(fake)
        return fake_features

    model_data_utils._create_fake_features = _create_fake_features


def _run_graphs_in_order_without_dask() -> None:
    import logging

    import dask
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    logger = logging.getLogger("rasa.engine.runner.dask")

    def is_task(value: Any) -> bool:  # dask's definition of a task: a tuple of a callable and its arguments
        return type(value) is tuple and bool(value) and callable(value[0])

    def computed(graph: dict[str, Any], targets: list[str]) -> list[Any]:
        """What `dask.get(graph, targets)` returns, for a graph of nodes that need other keys only."""
        results: dict[str, Any] = {}

        def value_of(key: str) -> Any:
            if key not in results:
                task = graph[key]
                results[key] = task[0](*[value_of(need) for need in task[1:]]) if is_task(task) else task
            return results[key]

        return [value_of(target) for target in targets]

    def run(self: Any, inputs: dict[str, Any] | None = None, targets: list[str] | None = None) -> dict[str, Any]:
        run_targets = targets if targets else self._graph_schema.target_names
        run_graph = self._build_dask_graph(self._graph_schema.minimal_graph_schema(run_targets))
        if inputs:
            self._add_inputs_to_graph(inputs, run_graph)
        if logger.isEnabledFor(logging.DEBUG):  # Rasa formats this message (and its inputs) even when not logged
            logger.debug(f"Running graph with inputs: {inputs}, targets: {targets} and {self._execution_context}.")
        simple = all(isinstance(need, str) and need in run_graph
                     for task in run_graph.values() if is_task(task) for need in task[1:])
        try:
            return dict(computed(run_graph, run_targets) if simple else dask.get(run_graph, run_targets))
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e

    DaskGraphRunner.run = run


def _freeze_the_loaded_model() -> None:
    import gc

    from rasa.core import run

    load_agent_on_start = run.load_agent_on_start

    async def load_agent_on_start_then_freeze(*args: Any, **kwargs: Any) -> Any:
        agent = await load_agent_on_start(*args, **kwargs)
        gc.collect()  # the loading's own garbage first
        gc.freeze()  # what is alive now (the model, TensorFlow, the domain) stays out of every collection
        return agent

    run.load_agent_on_start = load_agent_on_start_then_freeze


def _handle_messages_oldest_first() -> None:
    from rasa.core.processor import MessageProcessor

    from bot.rasa.oldest_first import OldestFirst

    handle_message = MessageProcessor.handle_message
    turns = OldestFirst()

    async def handle_message_oldest_first(self: Any, message: Any) -> Any:
        return await turns.run(handle_message(self, message))

    MessageProcessor.handle_message = handle_message_oldest_first


def rule_states_length(policy: Any) -> int:
    """How many of the latest states a RulePolicy decides on: one more than its longest rule and than the
    longest key of its `rules_not_in_stories` (keys that are not a JSON list of states cannot be equal to
    one made of states)."""
    import json

    from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RULES_NOT_IN_STORIES

    longest = 0
    for name in (RULES, RULES_FOR_LOOP_UNHAPPY_PATH):
        for key in policy.lookup.get(name, {}):
            longest = max(longest, len(policy._rule_key_to_state(key)))
    for key in policy.lookup.get(RULES_NOT_IN_STORIES, []):
        try:
            value = json.loads(key)
        except (TypeError, ValueError):
            continue
        if isinstance(value, list):
            longest = max(longest, len(value))
    return longest + 1


def _carry_states_forward() -> None:
    from rasa.core.featurizers import tracker_featurizers
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer, TrackerFeaturizer
    from rasa.core.policies.policy import Policy
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.rasa import states as rasa_states

    rasa_copy = DialogueStateTracker.copy
    prediction_states = MaxHistoryTrackerFeaturizer.prediction_states
    policy_prediction_states = Policy._prediction_states
    lengths: dict[int, tuple[Any, int]] = {}  # id(RulePolicy) → (that policy, its states length)

    def applied_events(self: Any) -> list:
        if type(self) is not DialogueStateTracker:
            return rasa_states.rasa_applied_events(self)
        return rasa_states.applied_events(self)

    def past_states(self: Any, domain: Any, omit_unset_slots: bool = False, ignore_rule_only_turns: bool = False,
                    rule_only_data: Any = None) -> list:
        if type(self) is not DialogueStateTracker:
            return rasa_states.rasa_past_states(self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        return rasa_states.past_states(self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)

    def copy(self: Any) -> Any:
        if type(self) is not DialogueStateTracker:
            return rasa_copy(self)
        return rasa_states.copy_tracker(self)

    def featurizer_prediction_states(self: Any, trackers: list, domain: Any, use_text_for_last_user_input: bool = False,
                                     ignore_rule_only_turns: bool = False, rule_only_data: Any = None,
                                     ignore_action_unlikely_intent: bool = False, _length: int | None = None) -> list:
        length = _length or self.max_history
        if length is None or type(self)._create_states is not TrackerFeaturizer._create_states \
                or any(type(tracker) is not DialogueStateTracker for tracker in trackers):
            return prediction_states(self, trackers, domain, use_text_for_last_user_input, ignore_rule_only_turns,
                                     rule_only_data, ignore_action_unlikely_intent)
        trackers_as_states = [rasa_states.tail_states(tracker, domain, length, ignore_rule_only_turns, rule_only_data)
                              for tracker in trackers]
        if ignore_action_unlikely_intent and any(tracker_featurizers._is_prev_action_unlikely_intent_in_state(state)
                                                 for states in trackers_as_states for state in states):
            # Rasa removes those states before keeping the last ones: the last `length` may not be enough
            return prediction_states(self, trackers, domain, use_text_for_last_user_input, ignore_rule_only_turns,
                                     rule_only_data, ignore_action_unlikely_intent)
        trackers_as_states = [self.slice_state_history(states, self.max_history) for states in trackers_as_states]
        self._choose_last_user_input(trackers_as_states, use_text_for_last_user_input)
        return trackers_as_states

    def rule_policy_prediction_states(self: Any, tracker: Any, domain: Any, use_text_for_last_user_input: bool = False,
                                      rule_only_data: Any = None) -> list:
        featurizer = self.featurizer
        if type(featurizer) is not MaxHistoryTrackerFeaturizer or featurizer.max_history is not None:
            return policy_prediction_states(self, tracker, domain, use_text_for_last_user_input, rule_only_data)
        known = lengths.get(id(self))
        if known is None or known[0] is not self:
            known = lengths[id(self)] = (self, rule_states_length(self))
        return featurizer_prediction_states(
            featurizer, [tracker], domain, use_text_for_last_user_input=use_text_for_last_user_input,
            ignore_rule_only_turns=self.supported_data() == SupportedData.ML_DATA, rule_only_data=rule_only_data,
            ignore_action_unlikely_intent=self.supported_data() == SupportedData.ML_DATA, _length=known[1])[0]

    from rasa.core.policies.policy import SupportedData

    DialogueStateTracker.applied_events = applied_events
    DialogueStateTracker.past_states = past_states
    DialogueStateTracker.copy = copy
    MaxHistoryTrackerFeaturizer.prediction_states = featurizer_prediction_states
    RulePolicy._prediction_states = rule_policy_prediction_states


class EncodedEvents(list):
    """The JSON of a tracker's events, one string per event, to be joined into a request's body."""


EVENTS_PLACEHOLDER = "infomigra-encoded-events-3f9c1d2e"


def event_json(event: Any) -> str:
    """`json.dumps(event.as_dict())`, made once per event (again if its `metadata` was replaced)."""
    import json

    cached = event.__dict__.get("_infomigra_json")
    if cached is None or cached[0] is not event.metadata:
        cached = (event.metadata, json.dumps(event.as_dict()))
        event.__dict__["_infomigra_json"] = cached
    return cached[1]


def encoded_body(body: dict) -> bytes:
    """What `json.dumps(body)` gives (aiohttp's serializer), with the tracker's encoded events joined in."""
    import json

    tracker = dict(body["tracker"])
    events = tracker["events"]
    tracker["events"] = EVENTS_PLACEHOLDER
    text = json.dumps({**body, "tracker": tracker})
    return text.replace(json.dumps(EVENTS_PLACEHOLDER), "[" + ", ".join(events) + "]", 1).encode()


def _send_events_encoded_once() -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.trackers import EventVerbosity
    from rasa.utils.endpoints import EndpointConfig

    from bot.rasa import states as rasa_states
    from bot.rasa.action_events import events_for_actions

    action_call_format = RemoteAction._action_call_format
    request = EndpointConfig.request

    def _action_call_format(self: Any, tracker: Any, domain: Any) -> dict[str, Any]:
        original = tracker.current_state
        try:  # Rasa's body, but for the events: their JSON instead of dictionaries
            def current_state(event_verbosity: Any = EventVerbosity.NONE) -> dict[str, Any]:
                if event_verbosity != EventVerbosity.ALL:
                    return original(event_verbosity)
                state = original(EventVerbosity.NONE)
                sent = events_for_actions(tracker.events, session_start=rasa_states.session_start(tracker))
                state["events"] = EncodedEvents(event_json(event) for event in sent)
                return state

            tracker.current_state = current_state
            return action_call_format(self, tracker, domain)
        finally:
            del tracker.current_state

    async def request_encoded(self: Any, method: str = "post", subpath: Any = None,
                              content_type: Any = "application/json", compress: bool = False, **kwargs: Any) -> Any:
        body = kwargs.get("json")
        if isinstance(body, dict) and isinstance(body.get("tracker"), dict) \
                and isinstance(body["tracker"].get("events"), EncodedEvents):
            kwargs["data"] = encoded_body(kwargs.pop("json"))
        return await request(self, method, subpath, content_type, compress, **kwargs)

    RemoteAction._action_call_format = _action_call_format
    EndpointConfig.request = request_encoded
