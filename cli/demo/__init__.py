"""The demo: realistic cities, planned from a seed and a moment and played through the service layer.

`plan` makes the plans (pure), `stories` the scenarios, `content` the words
and places, `play` the story player and its stages, `rehearsal` the
database-free check of every plan, `seed` the writing.
"""
