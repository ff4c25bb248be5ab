"""A real S3 endpoint for tests: moto's server on 127.0.0.1, with a request log."""
