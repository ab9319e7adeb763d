"""Test helpers for the crawler: made-up KB pages, WARC building, a fault-injecting
Wayback server and a pywb launcher (all on 127.0.0.1)."""
