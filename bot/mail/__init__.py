"""The service's dedicated e-mail (directive 5.6, issue 16): messages read from its mailbox become
conversations of the desk, answered by advisors in the same thread. `inbound`: one received message as
the desk needs it, and whether it may be answered at all."""
