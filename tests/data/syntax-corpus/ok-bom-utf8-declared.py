# -*- coding: utf-8 -*-
NAME = "naïve"
