"""Lesson videos: shares, uploads (tus), imports, processing and media serving. May use core and
accounts.
"""
