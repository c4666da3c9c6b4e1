-- Run once by the postgres image on first start: Dagster's instance storage lives in its own database.
CREATE DATABASE dagster OWNER etsy;
