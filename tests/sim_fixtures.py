"""Fixtures for the Grid emulator over real loopback HTTP (filled in with reconciler.sim)."""
