#!/usr/bin/env python
# -*- coding: latin-1 -*-
"""Test cases for the Latin-1 codec, as old projects wrote them."""

CAFE = "café"  # é is e acute in Latin-1


def greet(name: str) -> str:
    """Say hello in French."""
    return "Bonjour, %s à la cafétéria" % name
