"""Benchmarks: the app under load, against a minimal wechatpy baseline (see docs/PERFORMANCE.md)."""
