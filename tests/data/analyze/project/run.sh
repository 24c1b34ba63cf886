#!/bin/sh
set -e
uvicorn src.main:app
