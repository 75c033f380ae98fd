"""Onthaal: a self-hostable anonymous chat helpline for pupils and parents."""
