-- Customers (customer_key): a connect webview created for a customer gives
-- the account it connects (and so its devices and their events) to that
-- customer; lists narrow to one customer by the accounts' key.
ALTER TABLE connected_accounts ADD COLUMN customer_key TEXT;
ALTER TABLE connect_webviews ADD COLUMN customer_key TEXT;
CREATE INDEX connected_accounts_customer ON connected_accounts(workspace_id, customer_key)
    WHERE customer_key IS NOT NULL;
