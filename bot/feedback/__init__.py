"""Answer feedback: "¿Te sirvió?" after an answer from the knowledge base, and its store.

- `offer`: the two one-tap buttons added to an answer (at most once per article per conversation,
  never during a form or a handoff, never after a safety answer, which goes to an advisor);
- `store`: one rating per article per conversation, tied to the article's `last_reviewed` date;
- `schema`: the table (migration 0005).
"""
