"""migrator: move TLS termination from one EC2 instance to an ALB with an ACM certificate."""
__version__ = "0.1.0"
