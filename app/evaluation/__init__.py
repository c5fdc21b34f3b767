"""Democratic evaluation (民主评议): ratings per member, their report and the phase gate."""
