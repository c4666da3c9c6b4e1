"""The connected installation of the sync tests, for the Dagster wiring tests."""

from etsy_pipeline_tests.sync.conftest import tiny

__all__ = ["tiny"]
