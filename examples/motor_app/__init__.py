"""motor_app example: see README.md."""
