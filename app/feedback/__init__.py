"""Annotations (timecoded feedback), replies, and their export and import documents. May use
core, accounts, lessons and frameworks.
"""
