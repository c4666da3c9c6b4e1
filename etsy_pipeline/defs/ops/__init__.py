"""Operations slice: the schema job, the verified daily backup and the hourly database health."""
