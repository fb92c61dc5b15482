"""Alert rules, their lifecycle and delivery to cohesion officers."""
