"""Rubric frameworks, their versions, dimensions and levels. May use core and accounts."""
