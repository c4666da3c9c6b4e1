"""Etsy Open API v3 client: x-api-key, OAuth bearer with refresh, a shared rate limiter, retries, paging.

Plain Python (urllib3 for the API, httpx for OAuth); no dlt or Dagster imports, so it can be used and tested on
its own. Pointing it at the emulator instead of Etsy is a matter of `base_url` and keys only.
"""
