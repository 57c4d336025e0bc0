"""Live lessons streamed over WHIP and watched over WHEP. May use core, accounts, lessons and
the rtc client.
"""
