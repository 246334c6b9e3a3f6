"""Importing existing questions and answers from other Q&A tools' dumps."""
