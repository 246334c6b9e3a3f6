"""What an operator watches: Prometheus metrics at /metrics and the JSON log lines."""
