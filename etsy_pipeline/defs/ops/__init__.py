"""Operations slice: a job operators run from the UI to bring the schema to head and verify it."""
