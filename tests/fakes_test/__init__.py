"""Tests that drive the fake model servers with the real SDK clients."""
