#!/usr/bin/env python3
# vim: set fileencoding=cp1252 :
PRICE = "10 €"  # the euro sign is 0x80 in cp1252
