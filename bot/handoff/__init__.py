"""The handoff to human advisors: a person of any channel (web widget, WhatsApp, Telegram) is handed
over to an advisor of the service, who answers from the desk on the person's own channel.

How it fits together (every state change is stored first, then carried out, so restarts lose nothing):

1. Escalation (action server, actions/handoff.py): the person asks ("asesor", the menu button,
   /asesor), the assistant is unsure twice in a row, or a safety topic is answered. A ticket is opened
   (`store`), with the assistant's turns so far and the articles they came from (`escalation`); the
   conversation is paused in Rasa (`ConversationPaused`; the `handoff_form` loop marks it) and slot
   `handoff` becomes true; the person is told their place in the queue and the expected wait, or,
   outside office hours (bot/offices/hours.py, America/Lima), when an advisor will answer (`messages`).
2. While paused Rasa predicts nothing, but it still extracts slots: a custom slot mapping conditioned
   on the `handoff_form` loop runs `action_handoff_inbox` on every message, which records it (with
   attachments) for the advisor. The advisor's messages never make the bot replay anything: they
   are stored here; a long handoff starts a fresh (still paused) Rasa session; closing starts one too.
3. The desk (bot/desk/queue.py) shows the queue and the conversation; replies, notices and the
   closing are delivered through Rasa's HTTP API with a JWT signed with RASA_JWT_SECRET (`rasa_api`): a `bot` event
   appended with execute_side_effects to the person's channel, which works while paused. Only the
   desk resumes a conversation; the person's "volver al asistente" (or /menu) is a request that the
   desk carries out. WhatsApp's 24-hour rule: answers are held and a template announces them.
4. The desk's worker (`service.HandoffService.tick`, every second) delivers what is pending (and
   retries when Rasa is down), releases held WhatsApp answers when the person writes, closes and
   resumes, returns chats whose advisor does not answer (or does not accept a transfer) to the queue
   and tells the person, and tells a person who waits long that they are still in the queue.

Modules: schema (tables), store (queries), settings, messages (Spanish texts), escalation
(conversation side, no Rasa imports), rasa_api, service (desk side), cli (`infomigra handoff`).
"""
