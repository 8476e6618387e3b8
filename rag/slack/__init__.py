"""The Slack face: cited answers in channels, threads, DMs and through `/ask`.

`app.py` builds the slack-bolt App and runs it (Socket Mode or HTTP), `handlers.py` translates
Slack events into assistant calls, `blocks.py` turns answers into Block Kit messages, and
`conversation.py` reads a thread back into question/answer history.
"""
