-- token_hash is UNIQUE in the table itself (its own index); the second
-- unique index of 0003, named as PostgreSQL names the constraint, made each
-- new session write a third random B-tree page for nothing.
DROP INDEX client_sessions_token_hash;
