"""Adapters: implementations of the ports (decoders, runners, encoders)."""
