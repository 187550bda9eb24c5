"""Test-side helpers: the local web server, Chromium launcher and real servers
the tests (and the benchmark) start on 127.0.0.1. Not part of the product."""
