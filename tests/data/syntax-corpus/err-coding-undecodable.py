# -*- coding: ascii -*-
"""Declared ASCII, but it is not."""
NAME = "café"
