"""How the Etsy dlt source's resources become Dagster assets: `etsy_raw/<entity>`, kinds dlt + postgres."""

from datetime import timedelta

import dagster as dg
from dagster_dlt import DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData

# The pull runs every 6 hours: a shop not pulled for 8 hours warns, for 13 hours (two missed pulls) fails.
PULL_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=13), warn_window=timedelta(hours=8))


class EtsyTranslator(DagsterDltTranslator):
    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        default = super().get_asset_spec(data)
        return default.replace_attributes(
            key=dg.AssetKey(["etsy_raw", data.resource.name]),
            deps=[],
            group_name="etsy_raw",
            kinds={"dlt", "postgres"},
            description=f"Etsy {data.resource.name.replace('_', ' ')} as Etsy's API returns them (etsy_raw schema).",
            owners=["team:data-engineering"],
            tags={"layer": "raw", "source": "etsy"},
            metadata={"dagster/table_name": f"etsy_raw.{data.resource.name}"},
            freshness_policy=PULL_FRESHNESS,
        )
