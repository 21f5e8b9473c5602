"""Figures, one function per figure, one shared style."""
