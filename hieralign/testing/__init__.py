"""Test and benchmark support (not used by the library): tiny real models trained by the real
engine, the bad-input catalogue, a live loopback server."""
