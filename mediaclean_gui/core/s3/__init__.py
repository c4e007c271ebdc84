"""S3 remotes: clients, verified uploads (F3), retention sweeps (F4, F5) and lifecycle export (F8)."""
