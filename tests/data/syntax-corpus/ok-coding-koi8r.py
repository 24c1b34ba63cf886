# -*- coding: koi8-r -*-
"""Messages of a Russian translation (koi8-r, as Lib/test/test_source_encoding.py used)."""
MESSAGES = {
    "hello": "Привет",
    "bye": "Пока",
}
