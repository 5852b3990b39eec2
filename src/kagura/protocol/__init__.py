"""Kagura's wire dialects: what clients may send (validated once, at the edge) and what the
server says (built in one place). Plain Python and pydantic: no web framework below here."""
