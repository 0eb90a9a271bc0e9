"""Long sessions (issue 15): the states carried forward from message to message (bot/rasa/states.py and
its patches in bot/rasa/patches.py) are Rasa's, and so are the policies' predictions.

A conversation of a few hundred events is driven turn by turn with the project's domain and a
RulePolicy and a MemoizationPolicy (max_history 5, as config.yml) trained on the project's rules and
stories: a topic, a country asked for, the suggestion form (a loop, with a rejection), an
utterance reverted, a restart and a new session. At every action the script records the applied
events, the past states of both kinds of featurization, what each policy's featurizer gives it, each
policy's prediction, and the tracker's copy. It runs twice in the Rasa venv, with Rasa's own code and
with the patches applied, and both records must be equal: the patched run carries the states forward
on the same tracker objects the server uses (the one kept by the store, the copies it hands out).
"""

import json
import textwrap

from bot.rasa.action_events import ACTION_WINDOW_MESSAGES
from tests.rasa_venv import run_in_rasa

SCRIPT = textwrap.dedent('''
    import json, logging, pathlib, sys, tempfile
    import structlog
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.disable(logging.WARNING)

    from rasa.core.policies.memoization import MemoizationPolicy
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.core.training import load_data
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (ActionExecuted, ActionExecutionRejected, ActiveLoop, BotUttered,
                                         Restarted, SessionStarted, SlotSet, UserUttered, UserUtteranceReverted)
    from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
    from rasa.shared.importers.importer import TrainingDataImporter

    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    patched = sys.argv[1] == "patched"
    if patched:
        from bot.rasa import patches as rasa_patches
        rasa_patches.apply()
    remote = RemoteAction("action_answer_topic", EndpointConfig("http://127.0.0.1:9/webhook",
                                                                enable_selective_domain=True))

    from bot.rasa.action_events import events_for_actions

    def body(tracker):
        """The JSON the action server receives: Rasa's, with the events the actions read (the window)."""
        call = remote._action_call_format(tracker, domain)
        if patched:
            return json.loads(rasa_patches.encoded_body(call))
        call = json.loads(json.dumps(call))
        call["tracker"]["events"] = events_for_actions(call["tracker"]["events"])
        return call

    domain = Domain.load("domain.yml")
    importer = TrainingDataImporter.load_from_config("config.yml", "domain.yml", ["data/rules", "data/stories"])
    trackers = load_data(importer, domain, augmentation_factor=0)
    storage = LocalModelStorage(pathlib.Path(tempfile.mkdtemp()))
    context = ExecutionContext(GraphSchema({}), "test")
    rule = RulePolicy.create({**RulePolicy.get_default_config(), "core_fallback_threshold": 0.3,
                              "core_fallback_action_name": "action_kb_search", "enable_fallback_prediction": True},
                             storage, Resource("rule"), context)
    rule.train(trackers, domain)
    memo = MemoizationPolicy.create({**MemoizationPolicy.get_default_config(), "max_history": 5}, storage,
                                    Resource("memo"), context)
    memo.train([t for t in trackers if not t.is_rule_tracker], domain)
    rule_only = rule._get_rule_only_data()

    clock = [1_700_000_000.0]
    def at(event):
        clock[0] += 1.0
        event.timestamp = clock[0]
        return event

    def user(intent, entities=(), text=None):
        parse = {"intent": {"name": intent, "confidence": 0.97}, "entities": list(entities),
                 "text": text or intent}
        return at(UserUttered(text or intent, parse["intent"], list(entities), parse))

    record = []
    def observe(tracker, label):
        """What the policies and the processor read from the tracker, as JSON."""
        out = {"at": label, "applied": [e.as_dict() for e in tracker.applied_events()]}
        for omit, ignore, only in ((False, False, None), (False, True, rule_only)):
            out[f"past {ignore}"] = tracker.past_states(domain, omit_unset_slots=omit, ignore_rule_only_turns=ignore,
                                                        rule_only_data=only)
        for use_text in (False, True):
            out[f"rule states {use_text}"] = rule._prediction_states(tracker, domain, use_text,
                                                                      rule_only_data=rule_only)[-4:]  # the RulePolicy reads fewer
            out[f"memo states {use_text}"] = memo._prediction_states(tracker, domain, use_text,
                                                                      rule_only_data=rule_only)
        for name, policy in (("rule", rule), ("memo", memo)):
            p = policy.predict_action_probabilities(tracker, domain, rule_only_data=rule_only)
            out[name] = [p.probabilities, p.hide_rule_turn, p.is_end_to_end_prediction, p.is_no_user_prediction,
                         [e.as_dict() for e in p.events]]
        copied = tracker.copy()
        out["copy"] = [copied.current_state(EventVerbosity.ALL), copied.past_states(domain),
                       copied.active_loop_name, copied.is_active_loop_rejected, copied.latest_action_name]
        out["action server"] = body(tracker)
        record.append(json.loads(json.dumps(out, default=repr)))
        return out

    def best(tracker):
        """The next action, and whether its turn is hidden from the ML policies (a rule not in the stories),
        as the ensemble and the processor decide them."""
        by_rule = rule.predict_action_probabilities(tracker, domain)
        by_memo = memo.predict_action_probabilities(tracker, domain, rule_only_data=rule_only)
        probabilities = [max(a, b) for a, b in zip(by_rule.probabilities, by_memo.probabilities)]
        index = probabilities.index(max(probabilities))
        hidden = by_rule.hide_rule_turn and by_rule.probabilities[index] >= by_memo.probabilities[index]
        return domain.action_names_or_texts[index], hidden

    # The conversation: the server's way of holding it. One kept tracker, a copy of it per message (the
    # store's `retrieve`), the message's events on the copy, then the kept tracker takes the events.
    kept = DialogueStateTracker("largo", domain.slots)
    for event in (at(ActionExecuted("action_session_start")), at(SessionStarted()), at(ActionExecuted("action_listen"))):
        kept.update(event)
    turns = [("saludo", ()), ("linea_emigrar", ()), ("emigrar_tramites", ()),
             ("informar_pais", ({"entity": "country", "value": "espana", "start": 0, "end": 6},)),
             ("agradecer", ()), ("emigrar_tramites", ({"entity": "country", "value": "chile", "start": 0, "end": 5},)),
             ("retorno_ley_incentivos", ()), ("menu", ()), ("fuera_de_alcance", ()), ("nlu_fallback", ())]
    step = hidden_turns = 0
    for n in range(110):  # more than ACTION_WINDOW_MESSAGES person messages before and after the new session
        tracker = kept.copy()
        tracker.model_id = "modelo-1"  # as the processor: events it takes get the model in their metadata
        intent, entities = turns[n % len(turns)]
        new = [user(intent, entities, f"mensaje {n}")]
        if n == 13:  # the suggestion form: a loop with its own turns, one rejected, then deactivated
            new = [user("dejar_sugerencia", (), "quiero dejar una sugerencia"), at(ActionExecuted("voz_del_migrante_form")),
                   at(ActiveLoop("voz_del_migrante_form")), at(SlotSet("requested_slot", "vm_kind")),
                   at(ActionExecuted("action_listen")), user("saludo", (), "sugerencia"),
                   at(ActionExecuted("voz_del_migrante_form")), at(SlotSet("requested_slot", "vm_country")),
                   at(ActionExecuted("action_listen")), user("fuera_de_alcance", (), "no se"),
                   at(ActionExecutionRejected("voz_del_migrante_form")), at(ActionExecuted("utter_menu")),
                   at(ActionExecuted("voz_del_migrante_form")), at(ActiveLoop(None)),
                   at(SlotSet("requested_slot", None))]
        if n == 21:  # an utterance taken back, as the handoff does
            new.append(at(UserUtteranceReverted()))
        if n == 50:
            new = [at(Restarted()), at(ActionExecuted("action_session_start")), at(SessionStarted()),
                   at(ActionExecuted("action_listen")), *new]
        if n == 58:
            new = [at(ActionExecuted("action_session_start")), at(SessionStarted()),
                   at(SlotSet("country", "chile")), at(ActionExecuted("action_listen")), *new]
        for event in new:
            tracker.update(event)
        for _ in range(3):
            observe(tracker, f"turn {n}, action {step}")
            step += 1
            action, hidden = best(tracker)
            hidden_turns += hidden
            if action == "action_listen":
                break
            executed = at(ActionExecuted(action, hide_rule_turn=hidden))
            temporary = tracker.copy()  # as `_run_action`: the action runs on a copy (no model id) with the event
            temporary.update(executed)
            record.append({"temporary": body(temporary)})
            tracker.update(executed)  # then the event takes the model id: the action server must see it
            tracker.update(at(BotUttered(f"respuesta {step}", {"buttons": [{"title": "Menú", "payload": "/menu"}]})))
            if n % 4 == 1:
                tracker.update(at(SlotSet("topic", intent)))
        tracker.update(at(ActionExecuted("action_listen")))
        observe(tracker, f"turn {n}, end")
        for event in list(tracker.events)[len(kept.events):]:
            kept.update(event)
        if patched:
            from bot.rasa import states as rasa_states
            rasa_states.prepare_like(kept, tracker)
    json.dump({"events": len(kept.events), "hidden": hidden_turns, "record": record}, sys.stdout)
''')


def run(mode: str) -> dict:
    out = run_in_rasa(SCRIPT, mode, timeout=600)
    return json.loads(out.strip().splitlines()[-1])


def test_carried_states_and_predictions_are_rasas_on_a_long_conversation():
    rasa, patched = run("rasa"), run("patched")
    assert rasa["events"] > 300 and len(rasa["record"]) > 150
    assert patched["events"] == rasa["events"] and rasa["hidden"] > 10  # turns of rules the stories do not have
    for ours, theirs in zip(patched["record"], rasa["record"], strict=True):
        assert ours == theirs, ours["at"]
    # the action server got the window, not the whole session, once the session was long enough
    users = [(sum(e["event"] == "user" for e in r["applied"]),
              sum(e["event"] == "user" for e in r["action server"]["tracker"]["events"]))
             for r in rasa["record"] if "applied" in r]
    assert any(applied > sent == ACTION_WINDOW_MESSAGES for applied, sent in users[:len(users) // 2])
    assert any(applied > sent == ACTION_WINDOW_MESSAGES for applied, sent in users[-10:])  # after the new session
    # the conversation went through what makes the progress start again: a form, a revert, a restart
    applied = [len(r["applied"]) for r in rasa["record"] if "applied" in r]
    assert any(later < earlier for earlier, later in zip(applied, applied[1:], strict=False))
