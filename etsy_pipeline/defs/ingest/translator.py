"""How the Etsy dlt source's resources become Dagster assets: `etsy_raw/<entity>`, kinds dlt + postgres."""

import dagster as dg
from dagster_dlt import DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData


class EtsyTranslator(DagsterDltTranslator):
    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        default = super().get_asset_spec(data)
        return default.replace_attributes(
            key=dg.AssetKey(["etsy_raw", data.resource.name]),
            deps=[],
            group_name="etsy_raw",
            kinds={"dlt", "postgres"},
            description=f"Etsy {data.resource.name.replace('_', ' ')} as Etsy's API returns them (etsy_raw schema).",
        )
