"""The Rasa performance patches behave exactly like Rasa: checked in the Rasa venv itself."""

import textwrap

from tests.rasa_venv import run_in_rasa

SCRIPT = textwrap.dedent('''
    import copy
    from jsonschema import ValidationError
    import json
    import random
    from rasa.core.actions.action import RemoteAction
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.events import Event, UserUttered
    from rasa.shared.utils.common import all_subclasses

    original = RemoteAction._validate_action_result
    cases = [
        {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hola"}]},
        {"events": [], "responses": []},
        {"events": [{"event": "nope"}]},
        {"events": "not a list"},
        {"responses": [1]},
    ]

    def outcome(method, case):
        try:
            return method(RemoteAction.__new__(RemoteAction), copy.deepcopy(case))
        except ValidationError as error:
            return "error: " + error.message

    # Event classes by name (with and without a default; "topic" and unknown names included), twice.
    names = sorted({cls.type_name for cls in all_subclasses(Event)}) + ["topic", "no_such_event"]

    def lookup(name, default=None):
        try:
            return Event.resolve_by_type(name, default)
        except ValueError as error:
            return "error: " + str(error)

    def classes():
        return [[lookup(n), lookup(n, UserUttered)] for n in names for _ in range(2)]

    # Rule search: random conversations and rules, many of them taken from the conversation's own
    # tail (so that rules do match), some conversation starts ({}), slots and loops that must not be set.
    rng = random.Random(7)

    def state():
        s = {}
        if rng.random() < 0.9:
            s["prev_action"] = {"action_name": rng.choice(["action_listen", "utter_menu", "action_answer"])}
        if rng.random() < 0.7:
            s["user"] = {"intent": rng.choice(["saludo", "emigrar", "retorno"])}
        elif rng.random() < 0.3:  # a text-based state (end-to-end prediction)
            s["user"] = {"text": rng.choice(["hola", "menu"])}
        if "prev_action" in s and rng.random() < 0.05:
            s["prev_action"] = {"action_name": "should_not_be_set"}
        if rng.random() < 0.3:
            s["slots"] = {"country": rng.choice([[1.0], "should_not_be_set"])}
        if rng.random() < 0.2:
            s["active_loop"] = {"name": rng.choice(["voz_del_migrante_form", "should_not_be_set"])}
        return s

    def rule_from(states):
        tail = states[-rng.randint(1, min(4, len(states))):]
        return [{k: v for k, v in s.items() if rng.random() < 0.8} for s in tail]

    searches = []
    for _ in range(400):
        states = [state() for _ in range(rng.randint(0, 12))]
        rules = [rule_from(states) if states and rng.random() < 0.5 else [state() for _ in range(rng.randint(1, 4))]
                 for _ in range(rng.randint(0, 30))]
        searches.append(({json.dumps(r, sort_keys=True): "utter_x" for r in rules}, states))
    policy = RulePolicy.__new__(RulePolicy)
    rules_before = [RulePolicy._get_possible_keys(policy, lookup, states) for lookup, states in searches]
    assert sum(1 for keys in rules_before if len(keys) > 1) > 20  # the cases do exercise matching

    before = [outcome(original, c) for c in cases]
    classes_before = classes()
    # Sparse features stacked (COO blocks of several dtypes and sizes, empty ones, mismatched rows)
    # and the empty features made for a missing attribute, dense and sparse.
    import numpy as np
    import scipy.sparse
    from rasa.shared.nlu.training_data.features import Features
    from rasa.utils.tensorflow import model_data_utils

    def matrix(rows, cols, dtype, density=0.3):
        return scipy.sparse.random(rows, cols, density=density, format="coo", dtype=dtype, random_state=rng.randint(0, 9999))

    pairs = [(matrix(r, rng.choice([1, 5, 300]), rng.choice(["float64", "float32", "int64"])),
              matrix(r if rng.random() < 0.95 else r + 1, rng.choice([1, 7, 2000]), rng.choice(["float64", "float32"]),
                     rng.choice([0.0, 0.01, 0.5])))
             for r in [rng.choice([0, 1, 2, 9]) for _ in range(60)]]
    pairs += [(matrix(3, 4, "float64").tocsr(), matrix(3, 2, "float64"))]

    def stacked():
        out = []
        for left, right in pairs:
            features = Features(left.copy(), "sequence", "text", "CountVectorsFeaturizer")
            features._cached_fingerprint = "old"
            try:
                features.combine_with_features(Features(right.copy(), "sequence", "text", "RegexFeaturizer"))
            except ValueError as error:
                out.append(("error", str(error)))
                continue
            m = features.features
            out.append((type(m).__name__, m.shape, str(m.dtype), m.row.tolist(), m.col.tolist(), str(m.row.dtype),
                        str(m.col.dtype), m.data.tolist(), features._cached_fingerprint))
        return out

    def fakes():
        examples = [[[None, [Features(np.ones((2, 5), "float32"), "sequence", "text", ["a", "b"]),
                             Features(matrix(1, 9, "float64"), "sentence", "text", "CountVectorsFeaturizer")]]]]
        examples[0][0][1][1]._cached_fingerprint = "fp"
        return [[(type(f.features).__name__, f.features.shape, str(f.features.dtype), f.type, f.attribute, f.origin,
                  f._cached_fingerprint) for f in model_data_utils._create_fake_features(e)] for e in examples]

    stacked_by_rasa, fakes_by_rasa = stacked(), fakes()
    assert sum(1 for entry in stacked_by_rasa if entry[0] == "error") >= 1
    rasas_get_possible_keys = RulePolicy._get_possible_keys
    from bot.rasa import patches as rasa_patches
    rasa_patches.apply()
    assert RemoteAction._validate_action_result is not original
    after = [outcome(RemoteAction._validate_action_result, c) for c in cases]
    assert before == after, (before, after)
    assert before[0] is True and before[2].startswith("error:")
    assert classes() == classes_before
    assert [RulePolicy._get_possible_keys(policy, lookup, states) for lookup, states in searches] == rules_before
    # ... with far fewer rule checks at the latest turn: only the rules indexed under its action and intent
    # (here rules shaped like the project's: one per intent after action_listen, and a start rule).
    shaped = {json.dumps(rule, sort_keys=True): "utter_x" for rule in
              [[{"prev_action": {"action_name": "action_listen"}, "user": {"intent": f"intent{k}"}}] for k in range(200)]
              + [[{}, {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "saludo"}}], [{"user": {}}]]}
    conversations = [[state(), {"prev_action": {"action_name": "action_listen"}, "user": {"intent": f"intent{k}"}}]
                     for k in range(0, 250, 5)] + [[{}], [{"user": {"intent": "saludo"}}]]
    latest_turn_checks = [0]
    is_rule_applicable = RulePolicy._is_rule_applicable
    def counted(self, key, turn, state):
        latest_turn_checks[0] += turn == 0
        return is_rule_applicable(self, key, turn, state)
    RulePolicy._is_rule_applicable = counted
    patched = [RulePolicy._get_possible_keys(policy, shaped, states) for states in conversations]
    assert latest_turn_checks[0] <= 2 * len(conversations), latest_turn_checks
    assert patched == [rasas_get_possible_keys(policy, shaped, states) for states in conversations]
    assert sum(1 for keys in patched if keys) >= 40
    assert stacked() == stacked_by_rasa and fakes() == fakes_by_rasa
    assert Features._combine_sparse_features.__module__ == "bot.rasa.patches"
    from rasa.core.processor import MessageProcessor  # messages run in turns (tests/unit/test_oldest_first.py)
    assert MessageProcessor.handle_message.__qualname__.endswith("handle_message_oldest_first")
    assert model_data_utils._create_fake_features.__module__ == "bot.rasa.patches"
    assert lookup("user") is UserUttered and lookup("no_such_event").startswith("error:")
    print("same")
''')


def test_patched_validation_behaves_like_rasas():
    out = run_in_rasa(SCRIPT, timeout=120)
    assert out.strip().endswith("same")
