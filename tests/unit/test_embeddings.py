"""The sentence encoder shipped in its wheel: loads offline, normalised, deterministic, and it means."""

import numpy as np

from bot import embeddings


def test_vectors_have_one_normalised_row_per_text():
    vectors = embeddings.encode(["quiero trabajar en España", "hola", ""])
    assert vectors.shape == (3, embeddings.DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embeddings.encode("hola").shape == (1, embeddings.DIM)  # a string is a list of one
    assert embeddings.encode([]).shape == (0, embeddings.DIM)


def test_the_same_text_gives_the_same_vector_alone_or_in_a_batch():
    text = "¿Qué necesito para volver al Perú con mis cosas?"
    alone = embeddings.encode([text])[0]
    assert np.array_equal(alone, embeddings.encode([text])[0])
    batch = embeddings.encode(["otra frase antes", text, "y otra después"])
    assert np.allclose(alone, batch[1], atol=1e-5)  # no leakage between the texts of a batch


def test_similar_spanish_sentences_score_higher_than_unrelated_ones():
    query, paraphrase, unrelated = embeddings.encode(
        ["necesito hablar con una persona", "quiero hablar con un asesor humano", "receta de ceviche"]
    )
    assert query @ paraphrase > 0.6
    assert query @ unrelated < 0.2
    back, home, fraud = embeddings.encode(
        ["me quiero regresar a mi tierra", "quiero volver a vivir al Perú", "me pidieron plata por un contrato falso"]
    )
    assert back @ home > back @ fraud + 0.15


def test_the_model_loads_once_per_process():
    assert embeddings.model() is embeddings.model()
    assert embeddings.version() == "0.2.1"
