"""Abuse limits: per-user write rate, and the guards `vouch serve` puts on slow clients."""
