"""Operations slice: database health as an asset check operators can run from the UI."""
