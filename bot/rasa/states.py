"""The dialogue states of a conversation, carried forward message by message instead of recomputed.

Rasa 3.6.21 recomputes, at every prediction, the states of the whole session: `past_states` replays
every applied event of the tracker on a blank copy (`generate_all_prior_trackers`) and builds a state
before each action, and `applied_events` walks every event again; the processor also copies the tracker
for every action it runs by replaying all its events (`DialogueStateTracker.copy`). With the policies
of config.yml (RulePolicy, MemoizationPolicy max_history 5) a message calls these about ten times, so a
message's cost grew with the length of its session (issue 15: 18 ms for the first messages, 281 ms
after 600). Yet a state depends only on the events before it: the states of events 1..n do not change
when events n+1.. are added, unless those undo some of them.

`Progress` is what Rasa would compute for the first `n` events of a tracker: its applied events, and per
kind of featurization (domain, `omit_unset_slots`, `ignore_rule_only_turns`, `rule_only_data`) the states
so far, the replayed tracker they were read from and the two loop variables of
`Domain.states_for_tracker_history`. It hangs on the tracker (attribute `_infomigra_progress`), travels
with its copies (`copy_tracker`), and is extended with the events appended since, in the same order and
with Rasa's own functions (`get_active_state`, `_remove_rule_only_features`, the loop-undo test...).
Anything that would change what the first `n` events gave is computed again from scratch, as Rasa does:
an event that undoes (`UserUtteranceReverted`, `ActionReverted`, a loop action run again inside its
loop), a restart or a new session, a loop name not seen before (Rasa's `applied_events` looks at the
loop names of the whole tracker), or a tracker whose event `n` is not the same object as the one the
progress was made from. A progress is never changed once made: extending it makes a new one, so the
trackers that share it (the cached one and the copies handed out) cannot disturb each other (it only
gains kinds of states, each computed from its events alone).

What is handed out is always fresh: `past_states` returns new state dictionaries (the featurizers delete
keys from them; sub-states shared in Rasa's are shared in the copies), `applied_events` a new list.
`tail_states` gives only the last `k` states, for the featurizers that keep only those
(bot/rasa/patches.py).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

ATTR = "_infomigra_progress"
# Rasa's own methods, before bot/rasa/patches.py routes the tracker's through this module.
rasa_applied_events = DialogueStateTracker.applied_events
rasa_past_states = DialogueStateTracker.past_states


def copy_tracker(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """What `tracker.copy()` returns (a blank `init_copy` on which every event is replayed), built from
    the tracker's current state instead of the replay: the same events (the same objects, as the replay
    shares them), copies of the slots and of the mutable parts of the state. Like `init_copy`, the copy
    has no `model_id`, `assistant_id` or `sender_source`. Its progress is the tracker's."""
    new = tracker.init_copy()
    new.events.extend(tracker.events)
    for name in new.slots:
        if name in tracker.slots:
            new.slots[name] = copy.copy(tracker.slots[name])
    new._paused = tracker._paused
    new.followup_action = tracker.followup_action
    new.latest_action = dict(tracker.latest_action) if tracker.latest_action is not None else None
    new.latest_message = tracker.latest_message
    new.latest_bot_utterance = tracker.latest_bot_utterance
    new.active_loop = copy.copy(tracker.active_loop)
    progress = getattr(tracker, ATTR, None)
    if progress is not None:
        setattr(new, ATTR, progress)
    return new


def _fresh_states(states: list[dict]) -> list[dict]:
    """Copies of states that the caller may change (two levels: the featurizers delete sub-state keys),
    sharing sub-states where the originals share them. Rasa's states do share some: a turn after a hidden
    rule turn takes the user sub-state of the state before it (`_substitute_rule_only_user_input`), so
    when the featurizer deletes the intent from the last state for a text prediction, those states lose
    it too; the copies must behave the same."""
    copies: dict[int, dict] = {}

    def sub(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        copied = copies.get(id(value))
        if copied is None:
            copied = copies[id(value)] = dict(value)
        return copied

    return [{key: sub(value) for key, value in state.items()} for state in states]


class States:
    """The states of one kind of featurization for the applied events of a `Progress`."""

    __slots__ = ("domain", "omit_unset_slots", "ignore_rule_only_turns", "rule_only_data", "tracker", "states",
                 "last_ml_action_sub_state", "turn_was_hidden")

    def __init__(self, domain: Any, omit_unset_slots: bool, ignore_rule_only_turns: bool,
                 rule_only_data: dict | None, tracker: DialogueStateTracker) -> None:
        self.domain = domain
        self.omit_unset_slots = omit_unset_slots
        self.ignore_rule_only_turns = ignore_rule_only_turns
        self.rule_only_data = rule_only_data
        self.tracker = tracker  # replayed up to here (Rasa's `tr` of `generate_all_prior_trackers`)
        self.states: list[dict] = []
        self.last_ml_action_sub_state: Any = None
        self.turn_was_hidden = False

    def extended(self, events: list[Event]) -> States:
        """These states followed by those of `events` (applied events), as a new object."""
        new = States(self.domain, self.omit_unset_slots, self.ignore_rule_only_turns, self.rule_only_data,
                     copy_tracker(self.tracker))
        new.states = list(self.states)
        new.last_ml_action_sub_state = self.last_ml_action_sub_state
        new.turn_was_hidden = self.turn_was_hidden
        new.advance(events)
        return new

    def advance(self, events: list[Event]) -> None:
        tracker = self.tracker
        for event in events:
            if isinstance(event, ActionExecuted):  # `generate_all_prior_trackers` yields before each action
                state = self.step(event.hide_rule_turn)
                if state is not None:
                    self.states.append(state)
            tracker.update(event)

    def step(self, hide_rule_turn: bool) -> dict | None:
        """One iteration of the loop of `Domain.states_for_tracker_history`, on the replayed tracker."""
        domain, tr = self.domain, self.tracker
        if self.ignore_rule_only_turns:
            if not self.turn_was_hidden:
                self.last_ml_action_sub_state = domain._get_prev_action_sub_state(tr)
            if not tr.followup_action and tr.latest_action_name != tr.active_loop_name:
                self.turn_was_hidden = hide_rule_turn
            if self.turn_was_hidden:
                return None
        state = domain.get_active_state(tr, omit_unset_slots=self.omit_unset_slots)
        if self.ignore_rule_only_turns:
            domain._remove_rule_only_features(state, self.rule_only_data)
            if self.states:
                domain._substitute_rule_only_user_input(state, self.states[-1])
            if self.last_ml_action_sub_state:
                state[PREVIOUS_ACTION] = self.last_ml_action_sub_state
        return domain._clean_state(state)

    def final(self) -> dict | None:
        """The last state (after every event), without changing this object."""
        saved = self.last_ml_action_sub_state, self.turn_was_hidden
        try:
            return self.step(False)
        finally:
            self.last_ml_action_sub_state, self.turn_was_hidden = saved


class Progress:
    """Rasa's applied events of a tracker's first `n` events, and the states computed from them."""

    __slots__ = ("n", "last", "applied", "loop_names", "session_start", "states")

    def __init__(self, n: int, last: Event | None, applied: list[Event], loop_names: frozenset,
                 session_start: SessionStarted | None) -> None:
        self.n = n
        self.last = last
        self.applied = applied
        self.loop_names = loop_names
        self.session_start = session_start  # the latest of the first `n` events (a new one starts afresh)
        self.states: dict[tuple, States] = {}

    def matches(self, tracker: DialogueStateTracker) -> bool:
        events = tracker.events
        return self.n <= len(events) and (self.n == 0 or events[self.n - 1] is self.last)


def _loop_names(events: Any) -> frozenset:
    return frozenset(event.name for event in events if isinstance(event, ActiveLoop) and event.name)


def _latest_session_start(events: Any) -> SessionStarted | None:
    return next((event for event in reversed(events) if isinstance(event, SessionStarted)), None)


def _from_scratch(tracker: DialogueStateTracker) -> Progress:
    events = tracker.events
    return Progress(len(events), events[-1] if events else None, rasa_applied_events(tracker), _loop_names(events),
                    _latest_session_start(events))


def _extend(progress: Progress, tracker: DialogueStateTracker) -> Progress | None:
    """`progress` carried over the tracker's events after its first `progress.n`, or None where only a
    computation from scratch gives Rasa's result."""
    events = tracker.events
    new = [events[i] for i in range(progress.n, len(events))]
    if not _loop_names(new) <= progress.loop_names:
        return None
    applied = list(progress.applied)
    for event in new:
        if isinstance(event, (Restarted, SessionStarted, ActionReverted, UserUtteranceReverted)):
            return None
        if isinstance(event, ActionExecuted) and event.action_name in progress.loop_names \
                and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied):
            return None  # Rasa undoes the loop's turns here (`_undo_till_previous_loop_execution`)
        applied.append(event)
    result = Progress(len(events), events[-1] if events else None, applied, progress.loop_names, progress.session_start)
    for key, states in progress.states.items():
        result.states[key] = states.extended(new)
    return result


def progress_of(tracker: DialogueStateTracker) -> Progress:
    """The tracker's progress, brought up to its latest event."""
    progress = getattr(tracker, ATTR, None)
    if progress is not None and progress.matches(tracker):
        if progress.n == len(tracker.events):
            return progress
        progress = _extend(progress, tracker)
    else:
        progress = None
    if progress is None:
        progress = _from_scratch(tracker)
    setattr(tracker, ATTR, progress)
    return progress


def session_start(tracker: DialogueStateTracker) -> SessionStarted | None:
    """The tracker's latest `SessionStarted` event, or None: from its progress and the events after it,
    without going through the whole session (the action server's window, bot/rasa/action_events.py)."""
    progress = getattr(tracker, ATTR, None)
    events = tracker.events
    if progress is None or not progress.matches(tracker):
        return _latest_session_start(events)
    for i in range(len(events) - 1, progress.n - 1, -1):
        if isinstance(events[i], SessionStarted):
            return events[i]
    return progress.session_start


def applied_events(tracker: DialogueStateTracker) -> list[Event]:
    """`DialogueStateTracker.applied_events`: the same list, new at each call."""
    return list(progress_of(tracker).applied)


def _states(tracker: DialogueStateTracker, domain: Any, omit_unset_slots: bool, ignore_rule_only_turns: bool,
            rule_only_data: dict | None) -> tuple[list[dict], dict]:
    """The states Rasa's `past_states` builds, but the last, and the last; not to be changed."""
    progress = progress_of(tracker)
    key = (id(domain), bool(omit_unset_slots), bool(ignore_rule_only_turns),
           json.dumps(rule_only_data, sort_keys=True, default=repr) if rule_only_data else None)
    states = progress.states.get(key)
    if states is None or states.domain is not domain:
        states = States(domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data, tracker.init_copy())
        states.advance(progress.applied)
        progress.states[key] = states
    return states.states, states.final()


def past_states(tracker: DialogueStateTracker, domain: Any, omit_unset_slots: bool = False,
                ignore_rule_only_turns: bool = False, rule_only_data: dict | None = None) -> list[dict]:
    """`DialogueStateTracker.past_states`: the same states, new dictionaries at each call."""
    states, final = _states(tracker, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    return _fresh_states([*states, final] if final is not None else states)


def tail_states(tracker: DialogueStateTracker, domain: Any, length: int, ignore_rule_only_turns: bool = False,
                rule_only_data: dict | None = None) -> list[dict]:
    """The last `length` states of `past_states` (all of them if there are fewer), new dictionaries."""
    states, final = _states(tracker, domain, False, ignore_rule_only_turns, rule_only_data)
    tail = [*states[-length:], final] if final is not None else states[-length:]
    return _fresh_states(tail[-length:])


def prepare_like(tracker: DialogueStateTracker, other: DialogueStateTracker) -> None:
    """Bring the tracker's progress up to its events, with every kind of states computed for `other`
    (the tracker store's kept tracker, after a save of `other`): its copies then start from there."""
    progress = getattr(other, ATTR, None)
    if progress is None:
        return
    for states in list(progress.states.values()):
        _states(tracker, states.domain, states.omit_unset_slots, states.ignore_rule_only_turns, states.rule_only_data)
