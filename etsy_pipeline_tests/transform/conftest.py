"""The synced installation of the sync tests, for the analytics tests."""

from etsy_pipeline_tests.sync.conftest import tiny

__all__ = ["tiny"]
