-- SQLite's migration 8: customers (customer_key) on connected accounts and
-- connect webviews.
ALTER TABLE connected_accounts ADD COLUMN customer_key TEXT;
ALTER TABLE connect_webviews ADD COLUMN customer_key TEXT;
CREATE INDEX connected_accounts_customer ON connected_accounts(workspace_id, customer_key)
    WHERE customer_key IS NOT NULL;
