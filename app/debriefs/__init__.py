"""Live debriefs: rooms, signaling, recording and the coaching log. May use core, accounts,
lessons, feedback and the rtc client.
"""
