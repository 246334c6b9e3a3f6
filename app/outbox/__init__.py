"""The search outbox: a durable note, written with each change, that a thread needs re-indexing."""
