"""Concrete standards (先进性具体标准): a unit's written standard, versioned, from templates."""
