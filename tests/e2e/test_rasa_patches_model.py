"""With the trained model, the patched Rasa (bot/rasa/patches.py: DIET's inference, the features, the
rule search, the graph runner) parses and predicts exactly like Rasa's own code.

Every held-out question (tests/nlu) is parsed by Rasa's own code, then again twice with the patches
applied: the intents, their rankings and confidences, and the entities must be identical; and the
next action after each question (scores of every action, policy, confidence) too.
"""

import subprocess
import textwrap

import pytest

from tests.conftest import ROOT
from tests.stack import MODEL

pytestmark = pytest.mark.e2e

SCRIPT = textwrap.dedent('''
    import asyncio, pathlib, sys
    import yaml
    from rasa.core.agent import Agent
    from rasa.utils.tensorflow.models import RasaModel

    texts = []
    for path in sorted(pathlib.Path("tests/nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text())["nlu"]:
            texts += [line[2:].strip() for line in block.get("examples", "").splitlines() if line.startswith("- ")]
    assert len(texts) >= 150, len(texts)
    agent = Agent.load(sys.argv[1])

    async def parse_all():
        return [await agent.parse_message(text) for text in texts]

    from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    def predict_all(parsed):  # the next action after each question, as the policies' graph predicts it
        out = []
        for n, data in enumerate(parsed):
            events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                      UserUttered(data["text"], data["intent"], data["entities"], parse_data=data)]
            tracker = DialogueStateTracker.from_events(f"s{n}", events, slots=agent.domain.slots)
            prediction = agent.processor.predict_next_with_tracker(tracker)
            out.append((prediction["scores"], prediction["policy"], prediction["confidence"]))
        return out

    original = RasaModel._rasa_predict
    by_rasa = asyncio.run(parse_all())
    predicted_by_rasa = predict_all(by_rasa)
    from bot.rasa import patches as rasa_patches
    rasa_patches.apply()
    assert RasaModel._rasa_predict is not original
    calls = []
    patched = RasaModel._rasa_predict
    def counting(self, batch_in):
        calls.append(1)
        return patched(self, batch_in)
    RasaModel._rasa_predict = counting
    from tensorflow.python.eager.polymorphic_function.polymorphic_function import Function
    through_tf_function = []
    dispatch = Function.__call__
    def counted_dispatch(self, *args, **kwargs):
        through_tf_function.append(1)
        return dispatch(self, *args, **kwargs)
    Function.__call__ = counted_dispatch
    import scipy.sparse
    from rasa.utils.tensorflow import model_data_utils
    stacked_by_scipy, fakes_made = [], []
    scipy.sparse.hstack = lambda *args, **kwargs: stacked_by_scipy.append(1)  # Rasa's path: must not run
    import dask
    dask.get = lambda *args, **kwargs: stacked_by_scipy.append("dask")  # nor dask's scheduler
    make_fakes = model_data_utils._create_fake_features
    model_data_utils._create_fake_features = lambda features: fakes_made.append(1) or make_fakes(features)
    assert asyncio.run(parse_all()) == by_rasa
    assert asyncio.run(parse_all()) == by_rasa
    assert predict_all(by_rasa) == predicted_by_rasa
    best = {max(scores, key=lambda score: score["score"])["action"] for scores, _, _ in predicted_by_rasa}
    assert len(best) >= 3, best  # several different next actions predicted
    assert len(calls) == 2 * len(texts)  # DIET ran through the patched method for every question
    assert not through_tf_function  # ... and straight to the graph, not through tf.function's dispatch
    assert not stacked_by_scipy and fakes_made  # sparse features stacked directly, empty features made anew
    print("same", len(texts))
''')


def test_patched_inference_parses_like_rasa():
    result = subprocess.run([str(ROOT / ".venv/bin/python"), "-c", SCRIPT, str(MODEL)], cwd=ROOT, capture_output=True,
                            text=True, timeout=600,
                            env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin", "RASA_TELEMETRY_ENABLED": "false"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1].startswith("same")


FREEZE = textwrap.dedent('''
    import asyncio, gc, sys, types
    from rasa.core import run
    from rasa.core.utils import AvailableEndpoints
    from bot.rasa import patches as rasa_patches
    rasa_patches.apply()
    app = types.SimpleNamespace(ctx=types.SimpleNamespace())
    before = gc.get_freeze_count()
    agent = asyncio.run(run.load_agent_on_start(sys.argv[1], AvailableEndpoints(), None, app, None))
    assert agent is app.ctx.agent and agent.is_ready()
    assert gc.get_freeze_count() > before + 100_000, (before, gc.get_freeze_count())
    print("frozen", gc.get_freeze_count())
''')


def test_the_loaded_model_is_kept_out_of_garbage_collections():
    """A full collection of the server's heap (the model, TensorFlow) stopped every conversation for up
    to 0.36 s under load; what is alive once the model is loaded is frozen out of collections."""
    result = subprocess.run([str(ROOT / ".venv/bin/python"), "-c", FREEZE, str(MODEL)], cwd=ROOT, capture_output=True,
                            text=True, timeout=600,
                            env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin", "RASA_TELEMETRY_ENABLED": "false"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1].startswith("frozen")
